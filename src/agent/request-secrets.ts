// How the local agent compares what a request carries with a secret it holds: in constant time
// (a byte-by-byte compare would tell a prober how much of its guess was right), and where
// requests carry it (a bearer header, a cookie).
import { timingSafeEqual } from 'node:crypto';

export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// The request's `Authorization: Bearer` is the expected token.
export function bearerMatches(header: string | undefined, expected: string): boolean {
  return sameSecret(header ?? '', `Bearer ${expected}`);
}

// The value of a cookie in a Cookie header, percent-decoded; undefined when absent or malformed.
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
