// Executor tokens (MESOS_EXECUTOR_AUTHENTICATION_TOKEN): one per executor, derived from a key the
// agent holds, so that an executor (whose image may be a framework's own code) can act only as
// itself, and a restarted agent knows every token without keeping any.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function executorTokenFor(key: string, executorId: string, containerId: string): string {
  return createHmac('sha256', key).update(`${executorId}:${containerId}`).digest('hex');
}

// The request's `Authorization: Bearer` is the expected token (compared in constant time).
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const given = Buffer.from(header ?? '');
  const wanted = Buffer.from(`Bearer ${expected}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
