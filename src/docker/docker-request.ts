// The one door to the Docker daemon: every Engine API call goes through `DockerConnection`, which
// owns the unix socket, the negotiated API version in each path, deadlines, aborts, the
// classification of a failure (unreachable, timed out, cancelled, refused) and the three shapes
// an answer takes: a whole body, a live stream (logs, wait, pull progress) and a hijacked
// connection (attach, exec start).
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { negotiateApiVersion } from './api-version.js';
import { DockerError } from './docker-error.js';
import { timerMs } from '../timers.js';

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
// An error answer is a short JSON message; the rest of a longer one is not read.
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface DockerRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  // The path without the version prefix (`/containers/abc/start`); it may carry a query.
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number>>;
  // Sent as JSON.
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  // Bound on the answer: the whole body, or for a stream or upgrade its start. 0: none.
  // Defaults to the connection's timeoutMs.
  readonly timeoutMs?: number;
  // Streams only: the call fails once the connection carries no byte for this long.
  readonly idleTimeoutMs?: number;
  // Aborts the call, and a stream or upgrade already handed over.
  readonly signal?: AbortSignal;
  // Statuses outside 2xx that are an answer, not a failure (whole bodies only).
  readonly accept?: readonly number[] | 'any';
  // The path as given, with no version negotiated first (GET /version, GET /_ping).
  readonly unversioned?: boolean;
}

export interface WholeResponse {
  readonly status: number;
  readonly body: Buffer;
}

export interface DaemonVersion {
  // The daemon's release (e.g. 20.10.24).
  readonly version: string;
  // The API version spoken on every versioned path.
  readonly apiVersion: string;
}

type Shape = 'whole' | 'stream' | 'upgrade';
type Answer<S extends Shape> = S extends 'whole' ? WholeResponse : S extends 'stream' ? http.IncomingMessage : Socket;

export class DockerConnection {
  readonly socketPath: string;
  // Bound on each call that is not a long-running wait or stream.
  readonly timeoutMs: number;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  // Shared by the calls made before it settles; dropped on failure so a later call asks again.
  private negotiation: Promise<DaemonVersion> | undefined;

  constructor(socketPath: string, options: { timeoutMs?: number } = {}) {
    this.socketPath = socketPath;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  close(): void {
    this.agent.destroy();
  }

  // The daemon's version and the API version spoken, asked once (GET /version).
  version(signal?: AbortSignal): Promise<DaemonVersion> {
    if (!this.negotiation) {
      const pending = this.readVersion();
      this.negotiation = pending;
      pending.catch(() => {
        if (this.negotiation === pending) this.negotiation = undefined;
      });
    }
    return untilAborted(this.negotiation, signal, 'GET /version');
  }

  // The answer read whole; a status outside 2xx (and `accept`) is a DockerError.
  whole(request: DockerRequest): Promise<WholeResponse> {
    return this.send(request, 'whole');
  }

  // The answer's body, as the daemon sends it; the deadline covers only its start.
  stream(request: DockerRequest): Promise<http.IncomingMessage> {
    return this.send(request, 'stream');
  }

  // The connection itself, once the daemon has taken it over (101 Switching Protocols).
  upgrade(request: DockerRequest): Promise<Socket> {
    return this.send(request, 'upgrade');
  }

  async json<T>(request: DockerRequest): Promise<T> {
    return parseBody<T>(await this.whole(request), request);
  }

  private async readVersion(): Promise<DaemonVersion> {
    const answer = await this.json<{ Version?: unknown; ApiVersion?: unknown }>({
      method: 'GET',
      path: '/version',
      unversioned: true,
      timeoutMs: this.timeoutMs || DEFAULT_CALL_TIMEOUT_MS,
    });
    const apiVersion = negotiateApiVersion(answer.ApiVersion);
    return { version: typeof answer.Version === 'string' ? answer.Version : 'unknown', apiVersion };
  }

  private async send<S extends Shape>(request: DockerRequest, shape: S): Promise<Answer<S>> {
    const prefix = request.unversioned ? '' : `/v${(await this.version(request.signal)).apiVersion}`;
    return this.exchange(request, shape, prefix + withQuery(request.path, request.query));
  }

  private exchange<S extends Shape>(request: DockerRequest, shape: S, path: string): Promise<Answer<S>> {
    const what = describe(request);
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const signal = request.signal;
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    return new Promise<Answer<S>>((resolve, reject) => {
      const options: http.RequestOptions & { servername: string } = {
        socketPath: this.socketPath,
        path,
        method: request.method,
        // Only short calls share connections: a stream or upgrade holds its own.
        agent: shape === 'whole' && timeoutMs > 0 ? this.agent : false,
        // No TLS on a unix socket: a blank server name spares Node's check of the Host header
        // against its IPv6 pattern, several milliseconds of compiling on each executor's first call.
        servername: '',
        headers: {
          Host: 'docker',
          ...(shape === 'upgrade' ? { Connection: 'Upgrade', Upgrade: 'tcp' } : {}),
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
          ...request.headers,
        },
      };
      const outgoing = http.request(options);
      // Set once the answer is given: a stream or socket handed over, which a later failure ends.
      let settled = false;
      let handedOver: Readable | undefined;
      const release = (): void => {
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: DockerError): void => {
        if (settled) {
          release();
          handedOver?.destroy(error);
          return;
        }
        settled = true;
        release();
        outgoing.destroy();
        reject(error);
      };
      const succeed = (answer: Answer<S>, stream?: Readable): void => {
        if (settled) return;
        settled = true;
        if (stream) {
          clearTimeout(deadline);
          handedOver = stream;
          stream.once('close', release);
        } else {
          release();
        }
        resolve(answer);
      };
      const deadline = timeoutMs > 0
        ? setTimeout(() => fail(new DockerError(`Docker daemon did not answer ${what} within ${timeoutMs} ms`, { code: 'ERR_DOCKER_TIMEOUT' })), timerMs(timeoutMs))
        : undefined;
      // Listened for before anything can destroy the request: an 'error' with no listener (a
      // 'socket hang up' from a request aborted at once) would kill the executor.
      outgoing.on('error', (error: NodeJS.ErrnoException) => fail(connectionError(error, what, this.socketPath)));
      const onAbort = (): void => fail(cancelledError(what, signal!));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (shape === 'stream' && request.idleTimeoutMs) {
        const idleMs = request.idleTimeoutMs;
        outgoing.setTimeout(timerMs(idleMs), () => fail(new DockerError(`Docker daemon sent nothing for ${what} in ${idleMs} ms`, { code: 'ERR_DOCKER_TIMEOUT' })));
      }

      outgoing.on('upgrade', (_response, socket, head) => {
        if (head.length > 0) socket.unshift(head);
        succeed(socket as Answer<S>, socket);
      });
      outgoing.on('response', (response) => {
        const status = response.statusCode ?? 0;
        const ok = shape !== 'upgrade' && ((status >= 200 && status < 300) || request.accept === 'any' || (shape === 'whole' && request.accept?.includes(status) === true));
        if (ok && shape === 'stream') return succeed(response as Answer<S>, response);
        readBody(response, ok ? Infinity : MAX_ERROR_BODY_BYTES).then(
          (body) => (ok ? succeed({ status, body } as Answer<S>) : fail(new DockerError(daemonMessage(status, body), { status }))),
          (error: Error) => fail(new DockerError(`${what} failed while reading: ${error.message}`, { cause: error })),
        );
      });
      outgoing.end(payload);
    });
  }
}

export function parseBody<T>(response: WholeResponse, request: DockerRequest): T {
  try {
    return JSON.parse(response.body.toString('utf8')) as T;
  } catch (error) {
    throw new DockerError(`Docker daemon sent invalid JSON for ${describe(request)}`, { cause: error });
  }
}

// The daemon's own words for a refusal: its JSON `message`, else its text, else the status.
export function daemonMessage(status: number, body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {
    // Not JSON: the text as it is.
  }
  return text.slice(0, 1000) || `HTTP ${status}`;
}

export function cancelledError(what: string, signal: AbortSignal): DockerError {
  return new DockerError(`${what} was cancelled`, { code: 'ERR_DOCKER_CANCELLED', cause: signal.reason });
}

function connectionError(error: NodeJS.ErrnoException, what: string, socketPath: string): DockerError {
  const unreachable = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'EACCES';
  return unreachable
    ? new DockerError(`Cannot reach the Docker daemon at ${socketPath} (${error.code})`, { code: 'ERR_DOCKER_UNREACHABLE', cause: error })
    : new DockerError(`${what} failed: ${error.message}`, { cause: error });
}

function describe(request: DockerRequest): string {
  return `${request.method} ${request.path.split('?')[0]}`;
}

function withQuery(path: string, query: DockerRequest['query']): string {
  if (!query) return path;
  const search = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)])).toString();
  return search === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${search}`;
}

// The body up to `limit` bytes (the rest is drained unread); rejects if the connection breaks.
export async function readBody(body: AsyncIterable<Buffer>, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size >= limit) continue;
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks);
}

// A shared promise as one caller sees it: given up (for that caller only) when its signal aborts.
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(cancelledError(what, signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelledError(what, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
