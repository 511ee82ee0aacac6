// Who may see the console and kill through it. With a bearer token, a browser brings it once in
// the query and gets a cookie (HttpOnly, SameSite=Strict) holding a value derived from it, so
// the token itself is never sent back nor kept by the browser; tools may send the token as
// `Authorization: Bearer`. A WebSocket upgrade must also come from the page's own origin, since
// browsers send cookies on cross-site WebSocket requests. Without a token, only requests naming
// the agent by an IP address or `localhost` are served, so a DNS name rebound to the loopback
// address by a web page cannot reach it.
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import type http from 'node:http';
import { bearerMatches, cookieValue, sameSecret } from '../request-secrets.js';

export const SESSION_COOKIE = 'console_session';

export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('mesos-executor-console-session').digest('hex');
}

// The request carries the token (as a bearer header) or the session cookie made from it.
export function authorized(request: http.IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = request.headers.authorization;
  if (header !== undefined && bearerMatches(header, token)) return true;
  const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
  return cookie !== undefined && sameSecret(cookie, sessionValue(token));
}

export function tokenMatches(given: string, token: string): boolean {
  return sameSecret(given, token);
}

export function sessionCookie(token: string, path: string): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=${path}; HttpOnly; SameSite=Strict`;
}

// The upgrade comes from a page of this server (or from a tool, which sends no Origin).
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === host.toLowerCase();
}

// A Host header naming the server by address or as localhost (no DNS name an outsider controls).
export function hostIsLocalName(host: string | undefined): boolean {
  if (host === undefined) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return bare === 'localhost' || isIP(bare) !== 0;
}
