// Makes a task's image present before its container is created: inspect, else pull through the
// Engine API (credentials only in the X-Registry-Auth header), reading the pull's progress stream
// as it comes, with an inactivity bound, rate-limited progress messages and classified failures.
import type { ContainerRuntime } from './container-runtime.js';
import { DockerError } from './docker-error.js';
import { retry } from '../retry.js';
import { ExecutorError } from '../errors.js';
import { DEFAULT_PULL_INACTIVITY_TIMEOUT_MS, pullRecordError } from './docker-runtime.js';
import { parseRecord, type JsonRecord } from './json-lines.js';
import { type ImageReference, parseImageReference } from './image-reference.js';
import type { RegistryAuth } from './registry-auth.js';

export { DEFAULT_PULL_INACTIVITY_TIMEOUT_MS };
export const DEFAULT_PROGRESS_INTERVAL_MS = 2_000;

export interface EnsureImageOptions {
  readonly forcePull: boolean;
  readonly auth: RegistryAuth | undefined;
  readonly onProgress: (message: string) => void;
  readonly signal?: AbortSignal;
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

export class ImagePullError extends ExecutorError<ImagePullErrorCode> {
  readonly kind: ImagePullFailureKind;
  // The image as the task gave it.
  readonly image: string;
  // The daemon's own text, when it gave one.
  readonly daemonMessage: string | undefined;

  constructor(message: string, options: { kind: ImagePullFailureKind; image: string; daemonMessage?: string; cause?: unknown }) {
    super(message, { name: 'ImagePullError', code: CODES[options.kind], cause: options.cause });
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
export async function ensureImage(docker: ContainerRuntime, image: string, options: EnsureImageOptions): Promise<{ pulled: boolean }> {
  const reference = parseImageReference(image);
  const name = inspectName(reference);
  if (!options.forcePull && await imagePresent(docker, image, name, options)) return { pulled: false };
  await retry(() => pullImage(docker, reference, options), (attempt, error) => (
    attempt < SHARED_DOWNLOAD_ATTEMPTS && cancelledByAnother(error) && !options.signal?.aborted ? SHARED_DOWNLOAD_RETRY_MS : undefined
  ));
  if (!await imagePresent(docker, image, name, options)) {
    throw new ImagePullError(
      `Failed to pull image '${image}': Docker reported the pull complete but has no image '${name}'`,
      { kind: 'daemon', image },
    );
  }
  return { pulled: true };
}

// The daemon shares a layer's download among every pull that needs it: when another client
// cancels its pull, ours can end with that client's "operation was aborted" though nothing asked
// us to stop. Such a pull is tried again, a bounded number of times.
const SHARED_DOWNLOAD_ATTEMPTS = 3;
const SHARED_DOWNLOAD_RETRY_MS = 500;

function cancelledByAnother(error: unknown): boolean {
  return error instanceof ImagePullError && error.kind === 'daemon' && /operation was aborted|context canceled/i.test(error.daemonMessage ?? '');
}

// The name to inspect: as given, with ":latest" when it has neither tag nor digest (as the stock
// containerizer does).
export function inspectName(reference: ImageReference): string {
  return reference.tag === undefined && reference.digest === undefined ? `${reference.original}:latest` : reference.original;
}

async function imagePresent(docker: ContainerRuntime, image: string, name: string, options: EnsureImageOptions): Promise<boolean> {
  try {
    return await docker.hasImage(name, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw cancelled(image, options.signal);
    if (error instanceof DockerError && error.status !== undefined) {
      throw new ImagePullError(
        `Failed to inspect image '${image}': the Docker daemon answered ${error.status} (Docker said: ${error.message})`,
        { kind: 'daemon', image, daemonMessage: error.message, cause: error },
      );
    }
    const timedOut = error instanceof DockerError && error.code === 'ERR_DOCKER_TIMEOUT';
    throw new ImagePullError(
      `Failed to inspect image '${image}': ${(error as Error).message}`,
      { kind: timedOut ? 'timeout' : 'daemon', image, cause: error },
    );
  }
}

function cancelled(image: string, signal: AbortSignal): ImagePullError {
  return new ImagePullError(`The pull of image '${image}' was cancelled`, { kind: 'cancelled', image, cause: signal.reason });
}

// The pull, its progress applied as it arrives. Settles when the stream ends (success), on an
// error record or status, on inactivity, or on abort (which stops the daemon's pull).
async function pullImage(docker: ContainerRuntime, reference: ImageReference, options: EnsureImageOptions): Promise<void> {
  const image = reference.original;
  const inactivityMs = options.inactivityTimeoutMs ?? DEFAULT_PULL_INACTIVITY_TIMEOUT_MS;
  const progress = new PullProgress(image);
  const throttle = new ProgressThrottle(options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, options.onProgress);
  if (options.signal?.aborted) throw cancelled(image, options.signal);
  throttle.offer(progress.summary());
  try {
    await docker.pull(image, {
      ...(options.auth ? { authHeader: options.auth.header } : {}),
      inactivityTimeoutMs: inactivityMs,
      onProgress: (record) => {
        progress.apply(pullEvent(record));
        throttle.offer(progress.summary());
      },
    }, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw cancelled(image, options.signal);
    const { kind, daemonText } = pullFailure(error, reference);
    throw new ImagePullError(
      pullFailureMessage({ image, registry: reference.registry, kind, daemonMessage: daemonText, auth: options.auth, inactivityMs }),
      { kind, image, ...(daemonText === undefined ? {} : { daemonMessage: daemonText }), cause: error },
    );
  }
}

// What a failed pull was: a silence, the daemon's refusal (its status; 200 for an error record
// in the progress stream) classified by its words, or any other failure of the daemon.
function pullFailure(error: unknown, reference: ImageReference): { kind: ImagePullFailureKind; daemonText: string | undefined } {
  if (error instanceof DockerError && error.code === 'ERR_DOCKER_TIMEOUT') return { kind: 'timeout', daemonText: undefined };
  const text = (error as Error).message;
  if (error instanceof DockerError && error.status !== undefined) {
    return { kind: classifyPullFailure(error.status === 200 ? undefined : error.status, text, reference), daemonText: text };
  }
  return { kind: 'daemon', daemonText: text };
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
  const record = parseRecord(line);
  return record === undefined ? undefined : pullEvent(record);
}

// The parts of a progress record the summary uses.
export function pullEvent(value: JsonRecord): PullEvent {
  const error = pullRecordError(value);
  const detail = value.progressDetail as { current?: unknown; total?: unknown } | undefined;
  const number = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : undefined);
  const current = number(detail?.current);
  const total = number(detail?.total);
  return {
    ...(typeof value.status === 'string' ? { status: value.status } : {}),
    // Only layer events carry progressDetail; "Pulling from" carries the tag as its id.
    ...(typeof value.id === 'string' && detail !== undefined ? { id: value.id } : {}),
    ...(current !== undefined ? { current } : {}),
    ...(total !== undefined ? { total } : {}),
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
