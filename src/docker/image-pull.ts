// Makes a task's image present before its container is created: inspect, else pull through the
// Engine API (credentials only in the X-Registry-Auth header), reading the pull's progress stream
// as it comes, with an inactivity bound, rate-limited progress messages and classified failures.
import http from 'node:http';
import { DockerError } from './docker-error.js';
import type { DockerEngine } from './engine.js';
import { type ImageReference, parseImageReference, pullName } from './image-reference.js';
import type { RegistryAuth } from './registry-auth.js';

export const DEFAULT_PULL_INACTIVITY_TIMEOUT_MS = 120_000;
export const DEFAULT_PROGRESS_INTERVAL_MS = 2_000;
// A progress line is a few hundred bytes; anything this long without a newline is not one.
const MAX_LINE_BYTES = 1024 * 1024;

export interface EnsureImageOptions {
  readonly forcePull: boolean;
  readonly auth: RegistryAuth | undefined;
  readonly onProgress: (message: string) => void;
  readonly signal?: AbortSignal;
  // Bound on each non-streaming Engine API call (the inspects).
  readonly timeoutMs: number;
  // The pull is stopped after this long without a byte from the daemon.
  readonly inactivityTimeoutMs?: number;
  // At most one progress message per this many milliseconds.
  readonly progressIntervalMs?: number;
}

export type ImagePullFailureKind = 'authentication' | 'not-found' | 'network' | 'timeout' | 'daemon' | 'cancelled';

const CODES = {
  'authentication': 'ERR_IMAGE_PULL_AUTHENTICATION',
  'not-found': 'ERR_IMAGE_NOT_FOUND',
  'network': 'ERR_IMAGE_PULL_NETWORK',
  'timeout': 'ERR_IMAGE_PULL_TIMEOUT',
  'daemon': 'ERR_IMAGE_PULL_DAEMON',
  'cancelled': 'ERR_IMAGE_PULL_CANCELLED',
} as const;

export type ImagePullErrorCode = (typeof CODES)[ImagePullFailureKind];

export class ImagePullError extends Error {
  readonly code: ImagePullErrorCode;
  readonly kind: ImagePullFailureKind;
  // The image as the task gave it.
  readonly image: string;
  // The daemon's own text, when it gave one.
  readonly daemonMessage: string | undefined;

  constructor(message: string, options: { kind: ImagePullFailureKind; image: string; daemonMessage?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.code = CODES[options.kind];
    this.kind = options.kind;
    this.image = options.image;
    this.daemonMessage = options.daemonMessage;
  }

  // Worth trying again later: the registry or the network may recover.
  get transient(): boolean {
    return this.kind === 'network' || this.kind === 'timeout';
  }
}

// Makes `image` present: no pull when it is there already (unless forcePull), else a pull and a
// check that the image is now there.
export async function ensureImage(docker: DockerEngine, image: string, options: EnsureImageOptions): Promise<{ pulled: boolean }> {
  const reference = parseImageReference(image);
  const name = inspectName(reference);
  if (!options.forcePull && await imagePresent(docker, image, name, options)) return { pulled: false };
  await pullImage(docker, reference, options);
  if (!await imagePresent(docker, image, name, options)) {
    throw new ImagePullError(
      `Failed to pull image '${image}': Docker reported the pull complete but has no image '${name}'`,
      { kind: 'daemon', image },
    );
  }
  return { pulled: true };
}

// The name to inspect: as given, with ":latest" when it has neither tag nor digest (as the stock
// containerizer does).
export function inspectName(reference: ImageReference): string {
  return reference.tag === undefined && reference.digest === undefined ? `${reference.original}:latest` : reference.original;
}

async function imagePresent(docker: DockerEngine, image: string, name: string, options: EnsureImageOptions): Promise<boolean> {
  let response;
  try {
    response = await docker.call('GET', `/images/${encodeURIComponent(name)}/json`, {
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted) throw cancelled(image, options.signal);
    const timedOut = error instanceof DockerError && error.code === 'ERR_DOCKER_TIMEOUT';
    throw new ImagePullError(
      `Failed to inspect image '${image}': ${(error as Error).message}`,
      { kind: timedOut ? 'timeout' : 'daemon', image, cause: error },
    );
  }
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  const text = bodyMessage(response.body.toString('utf8'));
  throw new ImagePullError(
    `Failed to inspect image '${image}': the Docker daemon answered ${response.status} (Docker said: ${text})`,
    { kind: 'daemon', image, daemonMessage: text },
  );
}

function cancelled(image: string, signal: AbortSignal): ImagePullError {
  return new ImagePullError(`The pull of image '${image}' was cancelled`, { kind: 'cancelled', image, cause: signal.reason });
}

// POST /images/create, its JSON-lines answer read as it arrives. Settles when the stream ends
// (success), on an error line or status, on inactivity, or on abort (which closes the connection,
// and so stops the daemon's pull).
function pullImage(docker: DockerEngine, reference: ImageReference, options: EnsureImageOptions): Promise<void> {
  const image = reference.original;
  const { fromImage, tag } = pullName(reference);
  const inactivityMs = options.inactivityTimeoutMs ?? DEFAULT_PULL_INACTIVITY_TIMEOUT_MS;
  const progress = new PullProgress(image);
  const throttle = new ProgressThrottle(options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, options.onProgress);
  const path = `/images/create?${new URLSearchParams({ fromImage, tag }).toString()}`;

  return new Promise<void>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(cancelled(image, options.signal));
      return;
    }
    const request = http.request({
      socketPath: docker.socketPath,
      path,
      method: 'POST',
      agent: false,
      headers: { Host: 'docker', ...(options.auth ? { 'X-Registry-Auth': options.auth.header } : {}) },
    });
    let settled = false;
    const settle = (error?: ImagePullError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      request.destroy();
      if (error) reject(error);
      else resolve();
    };
    const fail = (kind: ImagePullFailureKind, daemonText: string | undefined, cause?: unknown): void => settle(new ImagePullError(
      pullFailureMessage({ image, registry: reference.registry, kind, daemonMessage: daemonText, auth: options.auth, inactivityMs }),
      { kind, image, ...(daemonText === undefined ? {} : { daemonMessage: daemonText }), cause },
    ));
    // Waiting for the response headers counts as inactivity too: the daemon sends them only once
    // it has reached the registry.
    const timer = setTimeout(() => fail('timeout', undefined), inactivityMs);
    const onAbort = (): void => settle(cancelled(image, options.signal!));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    throttle.offer(progress.summary());

    request.on('error', (error: NodeJS.ErrnoException) => {
      const unreachable = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'EACCES';
      fail('daemon', unreachable ? `cannot reach the Docker daemon at ${docker.socketPath} (${error.code})` : error.message, error);
    });
    // Applies stream lines to the progress; false once one of them reports the pull failed.
    const consume = (lines: readonly string[]): boolean => {
      for (const line of lines) {
        const event = parseEvent(line);
        if (event?.error !== undefined) {
          fail(classifyPullFailure(undefined, event.error, reference), event.error);
          return false;
        }
        if (event) progress.apply(event);
      }
      return true;
    };

    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const lines = new LineSplitter();
      const errorBody: Buffer[] = [];
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        timer.refresh();
        if (status !== 200) {
          if (errorBody.length < 64) errorBody.push(chunk);
          return;
        }
        const complete = lines.push(chunk);
        if (complete === undefined) {
          fail('daemon', 'the pull progress stream has a line longer than 1 MiB');
          return;
        }
        if (consume(complete)) throttle.offer(progress.summary());
      });
      response.on('error', (error) => fail('daemon', error.message, error));
      response.on('close', () => {
        if (!response.complete) fail('daemon', 'the Docker daemon closed the connection during the pull');
      });
      response.on('end', () => {
        if (status === 200) {
          if (consume([lines.rest()])) settle();
          return;
        }
        const text = bodyMessage(Buffer.concat(errorBody).toString('utf8'));
        fail(classifyPullFailure(status, text, reference), text);
      });
    });
    request.end();
  });
}

export interface PullEvent {
  readonly status?: string;
  readonly id?: string;
  readonly current?: number;
  readonly total?: number;
  readonly error?: string;
}

// One JSON line of the pull stream, or undefined for a line that is not one.
export function parseEvent(line: string): PullEvent | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const value = parsed as {
    status?: unknown; id?: unknown; error?: unknown;
    errorDetail?: { message?: unknown }; progressDetail?: { current?: unknown; total?: unknown };
  };
  const error = typeof value.errorDetail?.message === 'string' && value.errorDetail.message !== ''
    ? value.errorDetail.message
    : typeof value.error === 'string' ? value.error : undefined;
  const number = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : undefined);
  return {
    ...(typeof value.status === 'string' ? { status: value.status } : {}),
    // Only layer events carry progressDetail; "Pulling from" carries the tag as its id.
    ...(typeof value.id === 'string' && value.progressDetail !== undefined ? { id: value.id } : {}),
    ...(number(value.progressDetail?.current) !== undefined ? { current: number(value.progressDetail?.current)! } : {}),
    ...(number(value.progressDetail?.total) !== undefined ? { total: number(value.progressDetail?.total)! } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

interface LayerState {
  done: boolean;
  downloaded: number;
  total: number | undefined;
}

// The state of a pull, layer by layer, summed up in one human line.
export class PullProgress {
  private readonly layers = new Map<string, LayerState>();

  constructor(private readonly image: string) {}

  apply(event: PullEvent): void {
    if (event.id === undefined || event.status === undefined) return;
    let layer = this.layers.get(event.id);
    if (!layer) {
      layer = { done: false, downloaded: 0, total: undefined };
      this.layers.set(event.id, layer);
    }
    switch (event.status) {
      case 'Downloading':
        if (event.total !== undefined && event.total > 0) layer.total = event.total;
        if (event.current !== undefined) layer.downloaded = Math.max(layer.downloaded, event.current);
        break;
      case 'Extracting':
        // A small layer may skip "Downloading": its size shows first here.
        if (layer.total === undefined && event.total !== undefined && event.total > 0) layer.total = event.total;
        if (layer.total !== undefined) layer.downloaded = layer.total;
        break;
      case 'Verifying Checksum':
      case 'Download complete':
        if (layer.total !== undefined) layer.downloaded = layer.total;
        break;
      case 'Pull complete':
      case 'Already exists':
        if (layer.total !== undefined) layer.downloaded = layer.total;
        layer.done = true;
        break;
      default:
        break;
    }
  }

  summary(): string {
    const head = `Pulling image '${this.image}'`;
    if (this.layers.size === 0) return head;
    let done = 0;
    let downloaded = 0;
    let total = 0;
    for (const layer of this.layers.values()) {
      if (layer.done) done += 1;
      if (layer.total !== undefined) {
        downloaded += layer.downloaded;
        total += layer.total;
      }
    }
    const layers = `${done} of ${this.layers.size} ${this.layers.size === 1 ? 'layer' : 'layers'} done`;
    return total > 0 ? `${head}: ${layers}, ${megabytes(downloaded)} of ${megabytes(total)} MB` : `${head}: ${layers}`;
  }
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

// Passes on a message only when it is new and the last one passed is at least intervalMs old.
export class ProgressThrottle {
  private last: string | undefined;
  private lastAt: number | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (message: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  offer(message: string): void {
    if (message === this.last) return;
    const now = this.now();
    if (this.lastAt !== undefined && now - this.lastAt < this.intervalMs) return;
    this.last = message;
    this.lastAt = now;
    this.emit(message);
  }
}

// Splits a byte stream at newlines, keeping an incomplete line for the next chunk; undefined
// when a line grows past MAX_LINE_BYTES.
class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] | undefined {
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const lines: string[] = [];
    let newline = buffer.indexOf(0x0a);
    while (newline !== -1) {
      lines.push(buffer.subarray(0, newline).toString('utf8'));
      buffer = buffer.subarray(newline + 1);
      newline = buffer.indexOf(0x0a);
    }
    if (buffer.length > MAX_LINE_BYTES) return undefined;
    this.pending = Buffer.from(buffer);
    return lines;
  }

  // What is left after the last newline.
  rest(): string {
    return this.pending.toString('utf8');
  }
}

function bodyMessage(text: string): string {
  const trimmed = text.trim();
  try {
    const parsed = JSON.parse(trimmed) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {
    // Not JSON: the text as it is.
  }
  return trimmed.slice(0, 1000) || 'no message';
}

// Words of the daemon's pull errors (Docker 20.10 against distribution 2.8, and Docker Hub's).
const REPOSITORY_DENIED = /pull access denied|repository does not exist/i;
const AUTHENTICATION = /no basic auth credentials|unauthorized|authentication required|incorrect username or password|denied|forbidden/i;
const NOT_FOUND = /manifest unknown|not found|unknown blob|blob unknown|name unknown|no matching manifest/i;
const NETWORK = new RegExp([
  'connection refused', 'no such host', 'i/o timeout', 'network is unreachable', 'no route to host',
  'connection reset', 'tls handshake', 'x509', 'certificate', 'http response to https client', 'dial tcp',
  'client\\.timeout', 'timeout exceeded', 'deadline exceeded', '\\beof\\b', 'verification failed',
  'toomanyrequests', 'too many requests', 'unexpected http status: 5\\d\\d', 'service unavailable',
  'bad gateway', 'gateway time-?out',
].join('|'), 'i');

// What kind of failure the daemon's answer to a pull describes: its HTTP status when the failure
// came before the stream began, and its message (a status line or a stream's error line).
export function classifyPullFailure(status: number | undefined, daemonMessage: string, reference?: ImageReference): ImagePullFailureKind {
  // Quoted URLs and the image's own name may contain any word: match only the daemon's words.
  let text = daemonMessage.replace(/"[^"]*"/g, '""');
  if (reference) text = text.split(reference.name).join('');
  if (REPOSITORY_DENIED.test(text)) return 'not-found';
  if (AUTHENTICATION.test(text)) return 'authentication';
  if (status === 404 || NOT_FOUND.test(text)) return 'not-found';
  if (NETWORK.test(text)) return 'network';
  return 'daemon';
}

// The user-facing message of a failed pull: the image, the reason in plain words, Docker's text.
export function pullFailureMessage(failure: {
  image: string;
  registry: string;
  kind: ImagePullFailureKind;
  daemonMessage: string | undefined;
  auth: Pick<RegistryAuth, 'source'> | undefined;
  inactivityMs: number;
}): string {
  const said = failure.daemonMessage === undefined ? '' : failure.kind === 'authentication' || failure.kind === 'not-found'
    ? ` (the registry said: ${failure.daemonMessage})`
    : ` (Docker said: ${failure.daemonMessage})`;
  const hint = failure.kind === 'authentication' && !failure.auth
    ? "; give them in the sandbox's .docker/config.json or with the agent's --docker_config"
    : '';
  return `Failed to pull image '${failure.image}': ${pullFailureReason(failure)}${said}${hint}`;
}

function pullFailureReason(failure: Parameters<typeof pullFailureMessage>[0]): string {
  const text = failure.daemonMessage ?? '';
  switch (failure.kind) {
    case 'authentication':
      return failure.auth
        ? `authentication failed with the credentials for ${failure.registry} from ${failure.auth.source}`
        : `the registry requires credentials and none were given for ${failure.registry}`;
    case 'not-found':
      if (/pull access denied|repository does not exist/i.test(text)) return 'the repository does not exist, or reading it needs other credentials';
      if (/no matching manifest/i.test(text)) return 'the image has no variant for this platform';
      if (/unknown blob|blob unknown/i.test(text)) return 'the registry is missing a layer of the image';
      return 'the registry has no such image (repository or tag)';
    case 'network':
      return `the registry ${failure.registry} could not be reached or did not answer properly`;
    case 'timeout':
      return `no progress for ${failure.inactivityMs / 1000} s, so the pull was stopped`;
    case 'cancelled':
      return 'the pull was cancelled';
    case 'daemon':
      return 'the Docker daemon failed the pull';
  }
}
