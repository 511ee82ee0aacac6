// The verbs the executor uses on its container runtime (the Docker Engine API), as one typed port.
// Callers name verbs, never URLs; every verb takes an AbortSignal; a failure is a DockerError
// (`notFound`, `code` ERR_DOCKER_TIMEOUT / ERR_DOCKER_UNREACHABLE / ERR_DOCKER_CANCELLED (the
// caller's signal aborted; `cause` is its reason) / ERR_DOCKER, the daemon's own message). The
// lifecycle is tested against a fake implementation of this interface.
import type { Readable } from 'node:stream';
import type { ContainerInspect } from './container-inspect.js';
import type { CreateRequest } from './create-request.js';

// A multiplexed stdout/stderr stream (attach or logs); destroying it releases the connection.
export type OutputStream = Readable;

export interface WaitResult {
  readonly statusCode: number;
  readonly error: string | undefined;
}

// A registered wait: `result` settles when the container exits (or the watch is lost).
export interface ExitWatch {
  readonly result: Promise<WaitResult>;
}

export interface Inspected {
  // The inspect as the daemon sent it (for TaskStatus.data) and parsed.
  readonly raw: Buffer;
  readonly parsed: ContainerInspect;
}

export interface ContainerEvent {
  readonly action: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly time: number;
}

export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ExecSpec {
  readonly cmd: readonly string[];
  readonly env?: readonly string[];
  readonly user?: string;
}

export interface PullOptions {
  // The X-Registry-Auth value, when the registry needs credentials.
  readonly authHeader?: string;
  // Each progress record of the pull's JSON-lines stream, as parsed.
  readonly onProgress?: (record: Readonly<Record<string, unknown>>) => void;
  // The pull is stopped after this long without a byte from the daemon.
  readonly inactivityTimeoutMs?: number;
}

export interface ContainerRuntime {
  // Bound on each call that is not a long-running wait or stream.
  readonly timeoutMs: number;
  // The daemon's release and the API version spoken with it (negotiated once, on the first call).
  version(signal?: AbortSignal): Promise<{ version: string; apiVersion: string }>;
  ping(signal?: AbortSignal): Promise<void>;
  // The daemon's default log driver (GET /info LoggingDriver), for a container that names none.
  loggingDriver(signal?: AbortSignal): Promise<string | undefined>;
  create(name: string, body: CreateRequest, signal?: AbortSignal): Promise<string>;
  start(id: string, signal?: AbortSignal): Promise<void>;
  // Opened before start, it carries every byte the container writes.
  attach(id: string, signal?: AbortSignal): Promise<OutputStream>;
  // Resolves once the daemon has registered the wait (a start after it cannot be missed).
  // `next-exit` before a start; `not-running` for a container that may have exited already.
  wait(id: string, condition: 'next-exit' | 'not-running', signal?: AbortSignal): Promise<ExitWatch>;
  kill(id: string, signalName: string, signal?: AbortSignal): Promise<void>;
  // Throws a DockerError whose `notFound` is true when there is no such container.
  inspect(idOrName: string, signal?: AbortSignal): Promise<Inspected>;
  // The logged output from the container's first byte, then live until it stops.
  logs(id: string, signal?: AbortSignal): Promise<OutputStream>;
  // The container's past events of the given actions, between two Unix times (seconds).
  events(id: string, actions: readonly string[], since: number, until: number, signal?: AbortSignal): Promise<ContainerEvent[]>;
  // The container's events of the given actions from `since` (Unix seconds) on, past ones first,
  // each given to `onEvent` as it comes; settles when the stream ends (the signal aborted, the
  // daemon went away) and fails with a DockerError when it breaks.
  followEvents(id: string, actions: readonly string[], since: number, onEvent: (event: ContainerEvent) => void, signal?: AbortSignal): Promise<void>;
  // Force-removes the container and its anonymous volumes; a missing container is not an error.
  remove(id: string, signal?: AbortSignal): Promise<void>;
  // Containers (running or not) carrying every given label (`key` or `key=value`).
  list(labels: readonly string[], signal?: AbortSignal): Promise<ContainerSummary[]>;
  execCreate(id: string, spec: ExecSpec, signal?: AbortSignal): Promise<string>;
  // The exec's multiplexed output, ending when its process has exited.
  execStart(execId: string, signal?: AbortSignal): Promise<OutputStream>;
  execInspect(execId: string, signal?: AbortSignal): Promise<{ running: boolean; exitCode: number | null; pid: number }>;
  // Whether the image is present locally.
  hasImage(reference: string, signal?: AbortSignal): Promise<boolean>;
  pull(reference: string, options: PullOptions, signal?: AbortSignal): Promise<void>;
  close(): void;
}
