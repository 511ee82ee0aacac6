// Who may use what the serve agent serves (API, files, console): with a token, a request must carry
// it as `Authorization: Bearer <token>`, or the `agent_token` cookie, which a browser gets by
// opening any page once with `?token=<token>`. The cookie holds a value derived from the token,
// never the token: browsers send a host's cookies to every port on it, so any other server on
// this host (a host-network task's web UI) receives it. It still opens this API, but it cannot be
// turned back into the token, and it ends when the token changes. Without one, a loopback agent still refuses requests
// named for another host (DNS rebinding) or sent from another origin (a web page's forms), since
// submitting a task runs a container as root.
import type http from 'node:http';
import { sessionValue } from '../console/console-auth.js';
import { cookieValue, sameSecret } from '../request-secrets.js';

export const TOKEN_COOKIE = 'agent_token';

export type AccessResult = { ok: true; setCookie?: string } | { ok: false; status: 401 | 403; reason: string };

export interface AccessPolicy {
  readonly token: string | undefined;
  // The address the agent listens on; a loopback one limits the Host header to loopback names.
  readonly ip: string;
}

export function checkAccess(request: Pick<http.IncomingMessage, 'headers' | 'url'>, policy: AccessPolicy): AccessResult {
  const host = request.headers.host;
  if (isLoopback(policy.ip) && (host === undefined || !isLoopback(hostName(host)))) {
    return { ok: false, status: 403, reason: `Host '${host ?? ''}' is not a loopback name: this agent answers only to 127.0.0.1, localhost or [::1]` };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    return { ok: false, status: 403, reason: `Requests from origin '${origin}' are refused: only pages of this agent may call it` };
  }
  if (policy.token === undefined) return { ok: true };
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (bearer !== undefined && sameSecret(bearer, policy.token)) return { ok: true };
  if (sameSecret(cookieValue(request.headers.cookie, TOKEN_COOKIE) ?? '', sessionValue(policy.token))) return { ok: true };
  const query = new URL(request.url ?? '/', 'http://agent').searchParams.get('token');
  if (query !== null && sameSecret(query, policy.token)) {
    return { ok: true, setCookie: `${TOKEN_COOKIE}=${sessionValue(policy.token)}; Path=/; HttpOnly; SameSite=Strict` };
  }
  return { ok: false, status: 401, reason: 'Unauthorized: send the token as Authorization: Bearer <token> (or open the console once with ?token=<token>)' };
}

function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

export function isLoopback(name: string): boolean {
  return name === 'localhost' || name === '[::1]' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
