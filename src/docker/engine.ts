// A small Docker Engine API client over the daemon's unix socket. Talking to the API instead of
// the docker CLI means no long-lived CLI process per task and no secret on any command line.
import http from 'node:http';
import type { Socket } from 'node:net';
import { DockerError } from './docker-error.js';
import { timerMs } from '../timers.js';

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface EngineResponse {
  readonly status: number;
  readonly body: Buffer;
}

export interface CallOptions {
  readonly body?: unknown;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly headers?: Record<string, string>;
}

export interface WaitResult {
  readonly statusCode: number;
  readonly error: string | undefined;
}

export class DockerEngine {
  readonly socketPath: string;
  // Bound on each call that is not a long-running wait.
  readonly timeoutMs: number;
  private readonly agent: http.Agent;

  constructor(socketPath: string, options: { timeoutMs?: number } = {}) {
    this.socketPath = socketPath;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  close(): void {
    this.agent.destroy();
  }

  // One request whose response is read whole; bounded by timeoutMs unless it is 0.
  async call(method: string, path: string, options: CallOptions = {}): Promise<EngineResponse> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const what = `${method} ${path.split('?')[0]}`;
    return new Promise<EngineResponse>((resolve, reject) => {
      // Checked before a request exists: one destroyed before its 'error' listener is attached
      // would raise an unhandled 'socket hang up' and kill the executor.
      if (options.signal?.aborted) {
        reject(new DockerError(`${what} was cancelled`, { cause: options.signal.reason }));
        return;
      }
      const request = http.request({
        socketPath: this.socketPath,
        path,
        method,
        agent: timeoutMs === 0 ? false : this.agent,
        headers: {
          Host: 'docker',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
          ...options.headers,
        },
      });
      let settled = false;
      const fail = (error: DockerError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        request.destroy();
        reject(error);
      };
      const timer = timeoutMs > 0
        ? setTimeout(() => fail(new DockerError(
          `Docker daemon did not answer ${what} within ${timeoutMs} ms`,
          { code: 'ERR_DOCKER_TIMEOUT' },
        )), timerMs(timeoutMs))
        : undefined;
      const onAbort = (): void => fail(new DockerError(`${what} was cancelled`, { cause: options.signal?.reason }));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });

      request.on('error', (error: NodeJS.ErrnoException) => {
        const unreachable = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'EACCES';
        fail(new DockerError(
          unreachable
            ? `Cannot reach the Docker daemon at ${this.socketPath} (${error.code})`
            : `${what} failed: ${error.message}`,
          { code: unreachable ? 'ERR_DOCKER_UNREACHABLE' : 'ERR_DOCKER', cause: error },
        ));
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => fail(new DockerError(`${what} failed while reading: ${error.message}`, { cause: error })));
        response.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
      });
      request.end(payload);
    });
  }

  // Like call(), but a status outside 2xx becomes a DockerError carrying the daemon's message.
  async expect(method: string, path: string, options: CallOptions = {}): Promise<EngineResponse> {
    const response = await this.call(method, path, options);
    if (response.status >= 200 && response.status < 300) return response;
    throw new DockerError(daemonMessage(response), { status: response.status });
  }

  async json<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const response = await this.expect(method, path, options);
    try {
      return JSON.parse(response.body.toString('utf8')) as T;
    } catch (error) {
      throw new DockerError(`Docker daemon sent invalid JSON for ${method} ${path}`, { cause: error });
    }
  }

  async ping(timeoutMs = 5000): Promise<void> {
    await this.expect('GET', '/_ping', { timeoutMs });
  }

  // Resolves once the daemon has registered the wait (so a start after it cannot be missed);
  // `result` settles when the container next exits.
  // `next-exit` before a start; `not-running` to watch a container that may have exited already.
  async waitForExit(id: string, signal: AbortSignal, condition: 'next-exit' | 'not-running' = 'next-exit'): Promise<{ result: Promise<WaitResult> }> {
    const path = `/containers/${encodeURIComponent(id)}/wait?condition=${condition}`;
    return new Promise((resolveRegistered, rejectRegistered) => {
      const request = http.request({ socketPath: this.socketPath, path, method: 'POST', agent: false, signal, headers: { Host: 'docker' } });
      const timer = setTimeout(() => {
        request.destroy();
        rejectRegistered(new DockerError(`Docker daemon did not register the wait for ${id} within ${this.timeoutMs} ms`, { code: 'ERR_DOCKER_TIMEOUT' }));
      }, timerMs(this.timeoutMs));
      request.on('error', (error) => {
        clearTimeout(timer);
        rejectRegistered(new DockerError(`POST /containers/${id}/wait failed: ${error.message}`, { cause: error }));
      });
      request.on('response', (response) => {
        clearTimeout(timer);
        const chunks: Buffer[] = [];
        const result = new Promise<WaitResult>((resolve, reject) => {
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => reject(new DockerError(`Lost the wait for container ${id}: ${error.message}`, { cause: error })));
          response.on('aborted', () => reject(new DockerError(`Lost the wait for container ${id}: connection closed`)));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode !== 200) {
              reject(new DockerError(daemonMessage({ status: response.statusCode ?? 0, body: Buffer.from(text) }), { status: response.statusCode }));
              return;
            }
            try {
              const parsed = JSON.parse(text) as { StatusCode: number; Error?: { Message?: string } | null };
              resolve({ statusCode: parsed.StatusCode, error: parsed.Error?.Message || undefined });
            } catch (error) {
              reject(new DockerError(`Docker daemon sent an invalid wait result for ${id}: ${JSON.stringify(text.slice(0, 200))}`, { cause: error }));
            }
          });
        });
        result.catch(() => undefined);
        resolveRegistered({ result });
      });
      request.end();
    });
  }

  // Opens the container's raw multiplexed output stream (hijacked connection). Opened before
  // start, it carries every byte the container writes.
  // With `replay`, the container's logged output comes first (from its log driver), then live output.
  async attach(id: string, timeoutMs = this.timeoutMs, replay = false): Promise<Socket> {
    return this.hijack(`/containers/${encodeURIComponent(id)}/attach?stream=1&stdout=1&stderr=1&logs=${replay ? 1 : 0}`, {
      what: `the attach to ${id}`,
      failed: `Attach to container ${id} failed`,
    }, undefined, timeoutMs);
  }

  // Starts a created exec and returns its multiplexed output stream, which ends when the exec's
  // process has exited and its output is copied.
  async execStart(execId: string, timeoutMs = this.timeoutMs): Promise<Socket> {
    return this.hijack(`/exec/${encodeURIComponent(execId)}/start`, {
      what: `the start of exec ${execId}`,
      failed: `Start of exec ${execId} failed`,
    }, { Detach: false, Tty: false }, timeoutMs);
  }

  // The container's output as its log driver kept it, from the start, then following it live
  // until the container stops: gapless, unlike an attach, so it is what a resumed stream reads.
  async followLogs(id: string, timeoutMs = this.timeoutMs): Promise<http.IncomingMessage> {
    const path = `/containers/${encodeURIComponent(id)}/logs?follow=1&stdout=1&stderr=1`;
    return new Promise((resolve, reject) => {
      const request = http.request({ socketPath: this.socketPath, path, method: 'GET', agent: false, headers: { Host: 'docker' } });
      const timer = setTimeout(() => {
        request.destroy();
        reject(new DockerError(`Docker daemon did not answer the logs of ${id} within ${timeoutMs} ms`, { code: 'ERR_DOCKER_TIMEOUT' }));
      }, timerMs(timeoutMs));
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(new DockerError(`Reading the logs of container ${id} failed: ${error.message}`, { cause: error }));
      });
      request.on('response', (response) => {
        clearTimeout(timer);
        if (response.statusCode === 200) return resolve(response);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => reject(new DockerError(daemonMessage({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }), { status: response.statusCode })));
      });
      request.end();
    });
  }

  // A request whose connection the daemon takes over as a raw stream (101 Switching Protocols).
  private hijack(path: string, names: { what: string; failed: string }, body: unknown, timeoutMs: number): Promise<Socket> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const request = http.request({
        socketPath: this.socketPath,
        path,
        method: 'POST',
        agent: false,
        headers: {
          Host: 'docker',
          Connection: 'Upgrade',
          Upgrade: 'tcp',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        },
      });
      const timer = setTimeout(() => {
        request.destroy();
        reject(new DockerError(`Docker daemon did not answer ${names.what} within ${timeoutMs} ms`, { code: 'ERR_DOCKER_TIMEOUT' }));
      }, timerMs(timeoutMs));
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(new DockerError(`${names.failed}: ${error.message}`, { cause: error }));
      });
      request.on('upgrade', (_response, socket, head) => {
        clearTimeout(timer);
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      request.on('response', (response) => {
        clearTimeout(timer);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => reject(new DockerError(
          daemonMessage({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
          { status: response.statusCode },
        )));
      });
      request.end(payload);
    });
  }
}

function daemonMessage(response: EngineResponse): string {
  const text = response.body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed.message) return parsed.message;
  } catch {
    // Not JSON: use the text as it is.
  }
  return text || `HTTP ${response.status}`;
}
