// The serve agent's HTTP API, shaped after the Mesos agent's where it has one:
//   POST /api/v1/tasks                  a TaskInfo in Mesos JSON -> 202 {"task_id": ...}
//   POST /api/v1/tasks/<taskId>/kill    optional {"kill_policy": {"grace_period": {"nanoseconds": N}}} -> 202
//   GET  /state                         frameworks -> executors -> tasks (state-json.ts)
//   GET  /files/read?path=&offset=&length=   {"data", "offset"}; offset=-1 gives the size
//   GET  /files/browse?path=            [{path, mode, size, mtime, nlink, uid, gid}]
// Every request passes the access check first (access.ts); anything else goes to the hooks (the
// console). Failures are text/plain, one line: what was wrong and with which value.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { hostname } from 'node:os';
import { parseTaskInfo, TaskFileError } from '../task-file.js';
import { checkAccess, type AccessPolicy } from './access.js';
import { checkTaskId, parseBrowseQuery, parseKillBody, parseReadQuery } from './api-input.js';
import { BodyTooLargeError, readBody } from './request-body.js';
import { locateInSandbox } from './sandbox-path.js';
import { browseSandbox, readSandboxRange, SandboxAccessError } from './sandbox-files.js';
import { stateJson } from './state-json.js';
import { DuplicateTaskError } from './task-book.js';
import type { RequestRouter, ServeAgent } from './serve-agent.js';

// A TaskInfo larger than this is refused (Mesos's own default message limit is far above any sane
// TaskInfo; 1 MiB leaves room for `data` and long command lines).
export const MAX_BODY_BYTES = 1024 * 1024;

type RequestHandler = (request: http.IncomingMessage, response: http.ServerResponse) => void;
type UpgradeHandler = (request: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

// What the console plugs into: requests and upgrades the API does not serve, already authorised.
export interface ServeHttp {
  onRequest(handler: RequestHandler): void;
  onUpgrade(handler: UpgradeHandler): void;
}

export class HttpApi implements RequestRouter, ServeHttp {
  private readonly serve: ServeAgent;
  private readonly policy: AccessPolicy;
  private readonly startTimeMs = Date.now();
  private fallback: RequestHandler | undefined;
  private upgrader: UpgradeHandler | undefined;

  constructor(serve: ServeAgent, policy: AccessPolicy) {
    this.serve = serve;
    this.policy = policy;
  }

  onRequest(handler: RequestHandler): void {
    this.fallback = handler;
  }

  onUpgrade(handler: UpgradeHandler): void {
    this.upgrader = handler;
  }

  upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const access = checkAccess(request, this.policy);
    if (!access.ok || !this.upgrader) {
      const [status, reason] = access.ok ? [404, 'Not Found'] : [access.status, access.reason];
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${reason}\n`);
      return;
    }
    this.upgrader(request, socket, head);
  }

  request(request: http.IncomingMessage, response: http.ServerResponse): void {
    this.handle(request, response).catch((error: unknown) => {
      if (error instanceof BodyTooLargeError) return fail(response, 413, `${error.message}: a TaskInfo or kill body is at most ${MAX_BODY_BYTES} bytes`);
      if (!response.headersSent) fail(response, 500, `Internal error: ${(error as Error).message}`);
      else response.destroy();
    });
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const access = checkAccess(request, this.policy);
    if (!access.ok) {
      const headers = access.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="mesos-local-agent"' } : {};
      return fail(response, access.status, access.reason, headers);
    }
    const url = new URL(request.url ?? '/', 'http://agent');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    if (access.setCookie) {
      response.setHeader('Set-Cookie', access.setCookie);
      // The token came in the query: send the browser to the same page without it, so that it
      // stays in neither the address bar nor the history.
      if (method === 'GET' || method === 'HEAD') {
        url.searchParams.delete('token');
        response.writeHead(303, { Location: `${path}${url.search}`, 'Content-Type': 'text/plain' }).end();
        return;
      }
    }

    if (path === '/state' || path === '/files/read' || path === '/files/browse') {
      if (method !== 'GET' && method !== 'HEAD') return fail(response, 405, `${method} ${path}: expected GET`, { Allow: 'GET' });
      if (path === '/state') return json(response, 200, this.state());
      if (path === '/files/read') return this.read(response, url.searchParams);
      return this.browse(response, url.searchParams);
    }
    if (path === '/api/v1/tasks') {
      if (method !== 'POST') return fail(response, 405, `${method} ${path}: expected POST with a TaskInfo`, { Allow: 'POST' });
      return this.submit(request, response);
    }
    const kill = /^\/api\/v1\/tasks\/([^/]+)\/kill$/.exec(path);
    if (kill) {
      if (method !== 'POST') return fail(response, 405, `${method} ${path}: expected POST`, { Allow: 'POST' });
      let taskId: string;
      try {
        taskId = decodeURIComponent(kill[1]!);
      } catch {
        return fail(response, 400, `Invalid task id in ${path}: bad percent-encoding`);
      }
      return this.kill(request, response, taskId);
    }
    if (path.startsWith('/api/') || path.startsWith('/files/')) return fail(response, 404, `No endpoint ${path}`);
    if (this.fallback) return this.fallback(request, response);
    return fail(response, 404, `No endpoint ${path}`);
  }

  private state(): Record<string, unknown> {
    const agent = this.serve.agent;
    return stateJson(
      { agentId: agent.agentId, frameworkId: agent.frameworkId, hostname: hostname(), ip: this.policy.ip, port: agent.port, startTimeMs: this.startTimeMs },
      this.serve.book.all(),
    );
  }

  private async submit(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') return fail(response, 415, `Content-Type '${type}': expected application/json (a TaskInfo in Mesos JSON)`);
    const body = await readBody(request, MAX_BODY_BYTES);
    let task;
    try {
      task = parseTaskInfo(body.toString('utf8'), this.serve.agent.agentId, 'The request body');
    } catch (error) {
      if (error instanceof TaskFileError) return fail(response, 400, error.message);
      throw error;
    }
    const taskId = task.task_id.value;
    const invalid = checkTaskId(taskId);
    if (invalid) return fail(response, 400, `Invalid TaskInfo: ${invalid}`);
    if (!task.container?.docker?.image) return fail(response, 400, 'Invalid TaskInfo: container.docker.image is missing: this agent runs Docker tasks only');
    try {
      this.serve.submit(task);
    } catch (error) {
      if (error instanceof DuplicateTaskError) return fail(response, 409, error.message);
      throw error;
    }
    return json(response, 202, { task_id: { value: taskId } });
  }

  private async kill(request: http.IncomingMessage, response: http.ServerResponse, taskId: string): Promise<void> {
    const body = await readBody(request, MAX_BODY_BYTES);
    const grace = parseKillBody(body);
    if (!grace.ok) return fail(response, 400, grace.reason);
    const outcome = this.serve.kill(taskId, grace.value);
    if (outcome === 'unknown') return fail(response, 404, `No task '${taskId}'`);
    if (outcome === 'terminal') return fail(response, 409, `Task '${taskId}' has ended already (${this.serve.book.get(taskId)!.state})`);
    response.writeHead(202).end();
  }

  private read(response: http.ServerResponse, query: URLSearchParams): void {
    const parsed = parseReadQuery(query);
    if (!parsed.ok) return fail(response, 400, parsed.reason);
    const located = locateInSandbox(parsed.value.path, this.serve.sandboxes());
    if (!located.ok) return fail(response, located.status, located.reason);
    try {
      json(response, 200, readSandboxRange(located.location, parsed.value.offset, parsed.value.length));
    } catch (error) {
      if (error instanceof SandboxAccessError) return fail(response, error.status, error.message);
      throw error;
    }
  }

  private browse(response: http.ServerResponse, query: URLSearchParams): void {
    const parsed = parseBrowseQuery(query);
    if (!parsed.ok) return fail(response, 400, parsed.reason);
    const located = locateInSandbox(parsed.value, this.serve.sandboxes());
    if (!located.ok) return fail(response, located.status, located.reason);
    try {
      json(response, 200, browseSandbox(located.location));
    } catch (error) {
      if (error instanceof SandboxAccessError) return fail(response, error.status, error.message);
      throw error;
    }
  }
}

function json(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
}

// One line of text: newlines in a reason (from a parse error, say) are flattened.
function fail(response: http.ServerResponse, status: number, reason: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(`${reason.replace(/\s*\n\s*/g, ' ')}\n`);
}
