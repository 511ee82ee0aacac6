// The container runtime port on the Docker Engine API: each verb is one request through the
// connection (docker-request.ts), which speaks the negotiated API version over the unix socket.
// Talking to the API instead of the docker CLI means no long-lived CLI process per task and no
// secret on any command line.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ContainerInspect } from './container-inspect.js';
import type {
  ContainerEvent, ContainerRuntime, ContainerSummary, ExecSpec, ExitWatch, Inspected, PullOptions, WaitResult,
} from './container-runtime.js';
import type { CreateRequest } from './create-request.js';
import { DockerError } from './docker-error.js';
import { DockerConnection, parseBody, readBody, type DockerRequest, type WholeResponse } from './docker-request.js';
import { parseImageReference, pullName } from './image-reference.js';
import { readJsonLines, type JsonRecord } from './json-lines.js';

export { DEFAULT_CALL_TIMEOUT_MS } from './docker-request.js';
export const DEFAULT_PULL_INACTIVITY_TIMEOUT_MS = 120_000;
// A ping answers at once or the daemon is away: a short bound whatever the call bound.
const PING_TIMEOUT_MS = 5000;
// A progress or event line is a few hundred bytes; anything this long without a newline is not one.
const MAX_LINE_LENGTH = 1024 * 1024;

// For the deprecated raw calls below.
export interface CallOptions {
  readonly body?: unknown;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly headers?: Record<string, string>;
}

export class DockerRuntime implements ContainerRuntime {
  readonly socketPath: string;
  readonly timeoutMs: number;
  private readonly connection: DockerConnection;

  constructor(socketPath: string, options: { timeoutMs?: number } = {}) {
    this.connection = new DockerConnection(socketPath, options);
    this.socketPath = socketPath;
    this.timeoutMs = this.connection.timeoutMs;
  }

  close(): void {
    this.connection.close();
  }

  version(signal?: AbortSignal): Promise<{ version: string; apiVersion: string }> {
    return this.connection.version(signal);
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.connection.whole({ method: 'GET', path: '/_ping', unversioned: true, timeoutMs: Math.min(PING_TIMEOUT_MS, this.timeoutMs || PING_TIMEOUT_MS), ...(signal ? { signal } : {}) });
  }

  async loggingDriver(signal?: AbortSignal): Promise<string | undefined> {
    const what = request('GET', '/info', signal);
    const info = parseBody<{ LoggingDriver?: unknown }>(await this.connection.whole(what), what);
    return typeof info.LoggingDriver === 'string' ? info.LoggingDriver : undefined;
  }

  async create(name: string, body: CreateRequest, signal?: AbortSignal): Promise<string> {
    const created = await this.connection.json<{ Id: string }>(request('POST', '/containers/create', signal, { query: { name }, body }));
    return created.Id;
  }

  async start(id: string, signal?: AbortSignal): Promise<void> {
    await this.connection.whole(request('POST', `/containers/${encodeURIComponent(id)}/start`, signal));
  }

  attach(id: string, signal?: AbortSignal): Promise<Socket> {
    return this.connection.upgrade(request('POST', `/containers/${encodeURIComponent(id)}/attach`, signal, {
      query: { stream: 1, stdout: 1, stderr: 1, logs: 0 },
    }));
  }

  async wait(id: string, condition: 'next-exit' | 'not-running', signal?: AbortSignal): Promise<ExitWatch> {
    // The daemon answers the headers once the wait is registered, the body when the container exits.
    const response = await this.connection.stream(request('POST', `/containers/${encodeURIComponent(id)}/wait`, signal, { query: { condition } }));
    const result = readBody(response).then(
      (body) => waitResult(id, body),
      (error: Error) => {
        throw error instanceof DockerError ? error : new DockerError(`Lost the wait for container ${id}: ${error.message}`, { cause: error });
      },
    );
    result.catch(() => undefined);
    return { result };
  }

  async kill(id: string, signalName: string, signal?: AbortSignal): Promise<void> {
    await this.connection.whole(request('POST', `/containers/${encodeURIComponent(id)}/kill`, signal, { query: { signal: signalName } }));
  }

  async inspect(idOrName: string, signal?: AbortSignal): Promise<Inspected> {
    const what: DockerRequest = request('GET', `/containers/${encodeURIComponent(idOrName)}/json`, signal);
    const response = await this.connection.whole(what);
    return { raw: response.body, parsed: parseBody<ContainerInspect>(response, what) };
  }

  logs(id: string, signal?: AbortSignal): Promise<IncomingMessage> {
    return this.connection.stream(request('GET', `/containers/${encodeURIComponent(id)}/logs`, signal, { query: { follow: 1, stdout: 1, stderr: 1 } }));
  }

  async events(id: string, actions: readonly string[], since: number, until: number, signal?: AbortSignal): Promise<ContainerEvent[]> {
    const filters = JSON.stringify({ container: [id], type: ['container'], event: actions });
    // A past `until` makes the daemon answer at once and end the stream.
    const response = await this.connection.stream(request('GET', '/events', signal, {
      query: { since: unixTime(since), until: unixTime(until), filters },
      idleTimeoutMs: this.timeoutMs,
    }));
    const events: ContainerEvent[] = [];
    await readJsonLines(response, { maxLength: MAX_LINE_LENGTH, tooLong: 'the event stream has a line longer than 1 MiB' }, (record) => {
      events.push(containerEvent(record));
    });
    return events;
  }

  async followEvents(id: string, actions: readonly string[], since: number, onEvent: (event: ContainerEvent) => void, signal?: AbortSignal): Promise<void> {
    const filters = JSON.stringify({ container: [id], type: ['container'], event: actions });
    // No `until` and no bound: the daemon holds the stream open and sends each event as it
    // happens, and (Docker 20.10) not even its headers before the first one. Only the signal ends it.
    const response = await this.connection.stream(request('GET', '/events', signal, { query: { since: unixTime(since), filters }, timeoutMs: 0 }));
    try {
      await readJsonLines(response, { maxLength: MAX_LINE_LENGTH, tooLong: 'the event stream has a line longer than 1 MiB' }, (record) => {
        onEvent(containerEvent(record));
      });
    } catch (error) {
      if (signal?.aborted) return;
      throw error instanceof DockerError ? error : new DockerError(`Lost the event stream of container ${id}: ${(error as Error).message}`, { cause: error });
    }
  }

  async remove(id: string, signal?: AbortSignal): Promise<void> {
    await this.connection.whole(request('DELETE', `/containers/${encodeURIComponent(id)}`, signal, { query: { force: 1, v: 1 }, accept: [404] }));
  }

  async list(labels: readonly string[], signal?: AbortSignal): Promise<ContainerSummary[]> {
    const containers = await this.connection.json<Array<{ Id: string; Names?: string[]; Labels?: Record<string, string> }>>(
      request('GET', '/containers/json', signal, { query: { all: 1, filters: JSON.stringify({ label: labels }) } }),
    );
    return containers.map((container) => ({
      id: container.Id,
      name: (container.Names?.[0] ?? container.Id).replace(/^\//, ''),
      labels: container.Labels ?? {},
    }));
  }

  async execCreate(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<string> {
    const created = await this.connection.json<{ Id: string }>(request('POST', `/containers/${encodeURIComponent(id)}/exec`, signal, {
      body: {
        AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
        Cmd: spec.cmd, ...(spec.env ? { Env: spec.env } : {}), ...(spec.user !== undefined ? { User: spec.user } : {}),
      },
    }));
    return created.Id;
  }

  execStart(execId: string, signal?: AbortSignal): Promise<Socket> {
    return this.connection.upgrade(request('POST', `/exec/${encodeURIComponent(execId)}/start`, signal, { body: { Detach: false, Tty: false } }));
  }

  async execInspect(execId: string, signal?: AbortSignal): Promise<{ running: boolean; exitCode: number | null; pid: number }> {
    const inspect = await this.connection.json<{ Running?: boolean; ExitCode?: number | null; Pid?: number }>(
      request('GET', `/exec/${encodeURIComponent(execId)}/json`, signal),
    );
    return { running: inspect.Running === true, exitCode: inspect.ExitCode ?? null, pid: inspect.Pid ?? 0 };
  }

  async hasImage(reference: string, signal?: AbortSignal): Promise<boolean> {
    const response = await this.connection.whole(request('GET', `/images/${encodeURIComponent(reference)}/json`, signal, { accept: [404] }));
    return response.status !== 404;
  }

  // The pull's progress stream, read as it comes; an error record in it fails the pull with the
  // daemon's words and the status 200 it was sent under. Aborting closes the connection, which
  // stops the daemon's pull.
  async pull(reference: string, options: PullOptions, signal?: AbortSignal): Promise<void> {
    const { fromImage, tag } = pullName(parseImageReference(reference));
    const response = await this.connection.stream(request('POST', '/images/create', signal, {
      query: { fromImage, tag },
      // Waiting for the answer counts as inactivity too: the daemon answers once it reached the registry.
      timeoutMs: 0,
      idleTimeoutMs: options.inactivityTimeoutMs ?? DEFAULT_PULL_INACTIVITY_TIMEOUT_MS,
      ...(options.authHeader ? { headers: { 'X-Registry-Auth': options.authHeader } } : {}),
    }));
    try {
      await readJsonLines(response, { maxLength: MAX_LINE_LENGTH, tooLong: 'the pull progress stream has a line longer than 1 MiB' }, (record) => {
        const error = pullRecordError(record);
        if (error !== undefined) throw new DockerError(error, { status: 200 });
        options.onProgress?.(record);
      });
    } catch (error) {
      if (error instanceof DockerError) throw error;
      const closed = (error as NodeJS.ErrnoException).code === 'ECONNRESET' || (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
      throw new DockerError(closed ? 'the Docker daemon closed the connection during the pull' : (error as Error).message, { cause: error });
    }
  }

  // A raw request whose answer is read whole, whatever its status: for requests no verb makes
  // (tests stopping a container by hand, removing an image).
  call(method: DockerRequest['method'], path: string, options: CallOptions = {}): Promise<WholeResponse> {
    return this.connection.whole({ method, path, accept: 'any', ...options });
  }
}

// The error a pull's progress record reports, if it reports one.
export function pullRecordError(record: JsonRecord): string | undefined {
  const detail = record.errorDetail as { message?: unknown } | undefined;
  if (typeof detail?.message === 'string' && detail.message !== '') return detail.message;
  return typeof record.error === 'string' ? record.error : undefined;
}

function request(
  method: DockerRequest['method'],
  path: string,
  signal: AbortSignal | undefined,
  rest: Omit<DockerRequest, 'method' | 'path' | 'signal'> = {},
): DockerRequest {
  return { method, path, ...rest, ...(signal ? { signal } : {}) };
}

function waitResult(id: string, body: Buffer): WaitResult {
  const text = body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { StatusCode: unknown; Error?: { Message?: string } | null };
    if (typeof parsed.StatusCode !== 'number') throw new Error('no StatusCode');
    return { statusCode: parsed.StatusCode, error: parsed.Error?.Message || undefined };
  } catch (error) {
    throw new DockerError(`Docker daemon sent an invalid wait result for ${id}: ${JSON.stringify(text.slice(0, 200))}`, { cause: error });
  }
}

function containerEvent(record: JsonRecord): ContainerEvent {
  const actor = record.Actor as { Attributes?: Record<string, string> } | undefined;
  return {
    action: typeof record.Action === 'string' ? record.Action : typeof record.status === 'string' ? record.status : '',
    attributes: actor?.Attributes ?? {},
    time: typeof record.time === 'number' ? record.time : 0,
  };
}

// Unix seconds as the events filter takes them: fractions kept to the millisecond.
function unixTime(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : seconds.toFixed(3);
}
