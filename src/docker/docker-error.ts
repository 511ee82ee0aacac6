import { ExecutorError } from '../errors.js';

export type DockerErrorCode = 'ERR_DOCKER' | 'ERR_DOCKER_TIMEOUT' | 'ERR_DOCKER_UNREACHABLE' | 'ERR_DOCKER_CANCELLED';

// A failed Docker Engine API call: the daemon's own message, the HTTP status when there was one,
// and whether the call timed out, found no daemon or was cancelled (so callers can tell a hung
// or missing daemon from a refusal, and their own abort from either).
export class DockerError extends ExecutorError<DockerErrorCode> {
  readonly status: number | undefined;

  constructor(
    message: string,
    options: { status?: number; code?: DockerErrorCode; cause?: unknown } = {},
  ) {
    super(message, { name: 'DockerError', code: options.code ?? 'ERR_DOCKER', cause: options.cause });
    this.status = options.status;
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}
