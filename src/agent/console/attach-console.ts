// The live console on the agent's HTTP server: the page at /console (and /), its WebSocket at
// /console/ws. The server's own request handler offers each request to handleRequest first, and
// each upgrade to handleUpgrade (attachConsole takes the server's upgrades itself). Task changes are batched (one message per page per batch,
// however many tasks changed), and logs are tailed only for the tasks a page opened.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ConsoleSource, TaskView } from '../serve/console-source.js';
import { authorized, hostIsLocalName, sameOrigin, sessionCookie, tokenMatches } from './console-auth.js';
import { ConsoleClient } from './console-client.js';
import { CONSOLE_CSP, CONSOLE_PAGE } from './console-page.js';
import { taskForPage } from './console-protocol.js';
import type { FollowerLimits } from './log-follower.js';

export const CONSOLE_PATH = '/console';
export const CONSOLE_SOCKET_PATH = '/console/ws';

export interface ConsoleOptions {
  readonly token?: string;
  // How long task changes are gathered before they are sent.
  readonly batchMs?: number;
  readonly limits?: Partial<FollowerLimits>;
  // How often an idle page is pinged; one that does not answer by the next ping is dropped.
  readonly pingMs?: number;
  readonly maxFollowed?: number;
  readonly pollMs?: number;
  // The caller has checked the token, Host and Origin of every request and upgrade it hands
  // over (the serve agent's access check); `token` is then not used.
  readonly accessCheckedByCaller?: boolean;
}

export interface ConsoleHandlers {
  // Serves the page when the request is the console's; false leaves it to the caller.
  handleRequest(request: http.IncomingMessage, response: http.ServerResponse): boolean;
  // Takes the console's WebSocket upgrade; false leaves the socket to the caller.
  handleUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

// The console on `server`, taking its upgrades; requests still come through handleRequest.
export function attachConsole(server: http.Server, source: ConsoleSource, options: ConsoleOptions = {}): ConsoleHandlers {
  const handlers = createConsole(source, options);
  const onUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    handlers.handleUpgrade(request, socket, head);
  };
  server.on('upgrade', onUpgrade);
  return {
    handleRequest: handlers.handleRequest,
    handleUpgrade: handlers.handleUpgrade,
    close() {
      server.off('upgrade', onUpgrade);
      handlers.close();
    },
  };
}

export function createConsole(source: ConsoleSource, options: ConsoleOptions = {}): ConsoleHandlers {
  const token = options.token === '' ? undefined : options.token;
  const checked = options.accessCheckedByCaller ?? false;
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const clients = new Map<ConsoleClient, WebSocket>();
  const changed = new Map<string, TaskView>();
  let batch: NodeJS.Timeout | undefined;

  const flush = (): void => {
    batch = undefined;
    const tasks = [...changed.values()].map(taskForPage);
    changed.clear();
    for (const client of clients.keys()) client.sendChanges(tasks);
  };
  const unsubscribe = source.onChange((task) => {
    changed.set(task.taskId, task);
    batch ??= setTimeout(flush, options.batchMs ?? 100);
  });

  const pingMs = options.pingMs ?? 15_000;
  const pinger = setInterval(() => {
    for (const [client, socket] of clients) {
      if (!client.alive) {
        socket.terminate();
        continue;
      }
      client.alive = false;
      socket.ping();
    }
  }, pingMs);
  pinger.unref();
  const ticker = setInterval(() => {
    for (const client of clients.keys()) client.tick();
  }, 1000);
  ticker.unref();

  const handleUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    if (pathOf(request) !== CONSOLE_SOCKET_PATH) return false;
    const refusal = checked ? undefined : refuse(request, token, true);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal.status} ${refusal.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${refusal.reason}\n`);
      return true;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const client = new ConsoleClient(ws, source, {
        limits: options.limits,
        maxListBacklogBytes: 1024 * 1024,
        maxFollowed: options.maxFollowed ?? 64,
        pollMs: options.pollMs,
      });
      clients.set(client, ws);
      ws.on('close', () => clients.delete(client));
    });
    return true;
  };

  return {
    handleUpgrade,
    handleRequest(request, response) {
      const path = pathOf(request);
      if (path !== CONSOLE_PATH && path !== '/' && path !== CONSOLE_SOCKET_PATH) return false;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET, HEAD' }).end(`${request.method} is not allowed on ${path}; use GET\n`);
        return true;
      }
      if (path === CONSOLE_SOCKET_PATH) {
        response.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' }).end(`${CONSOLE_SOCKET_PATH} is the console's WebSocket; it needs an Upgrade: websocket request\n`);
        return true;
      }
      const query = new URL(request.url ?? '/', 'http://console').searchParams;
      const given = query.get('token');
      // The token comes once in the address: trade it for the cookie and drop it from the address.
      if (!checked && token !== undefined && given !== null && tokenMatches(given, token)) {
        response.writeHead(303, { Location: CONSOLE_PATH, 'Set-Cookie': sessionCookie(token, CONSOLE_PATH), 'Cache-Control': 'no-store' }).end();
        return true;
      }
      if (path === '/') {
        response.writeHead(302, { Location: CONSOLE_PATH }).end();
        return true;
      }
      const refusal = checked ? undefined : refuse(request, token, false);
      if (refusal) {
        response.writeHead(refusal.status, { 'Content-Type': 'text/plain', ...(refusal.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="mesos-local-agent"' } : {}) }).end(`${refusal.reason}\n`);
        return true;
      }
      response.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        // The page runs its own script only; task output can never become markup or script.
        'Content-Security-Policy': CONSOLE_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      });
      response.end(request.method === 'HEAD' ? undefined : CONSOLE_PAGE);
      return true;
    },
    close() {
      unsubscribe();
      clearTimeout(batch);
      clearInterval(pinger);
      clearInterval(ticker);
      for (const [client, socket] of clients) {
        client.close();
        socket.terminate();
      }
      sockets.close();
    },
  };
}

function pathOf(request: http.IncomingMessage): string {
  return (request.url ?? '/').split('?')[0]!;
}

// Why a request may not have the console, or undefined when it may.
function refuse(request: http.IncomingMessage, token: string | undefined, upgrade: boolean): { status: number; reason: string } | undefined {
  if (token === undefined && !hostIsLocalName(request.headers.host)) {
    return { status: 403, reason: `Host ${JSON.stringify(request.headers.host ?? '')} is not an address of this agent; without a token the console answers only to an IP address or localhost` };
  }
  if (upgrade && !sameOrigin(request.headers.origin, request.headers.host)) {
    return { status: 403, reason: `Origin ${JSON.stringify(request.headers.origin)} is not this console's origin` };
  }
  if (!authorized(request, token)) {
    return { status: 401, reason: `Unauthorized: open ${CONSOLE_PATH}?token=<the agent's token>, or send Authorization: Bearer <token>` };
  }
  return undefined;
}
