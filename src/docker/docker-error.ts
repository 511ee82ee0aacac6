// A failed Docker Engine API call: the daemon's own message, the HTTP status when there was one,
// and whether the call timed out, found no daemon or was cancelled (so callers can tell a hung
// or missing daemon from a refusal, and their own abort from either).
export class DockerError extends Error {
  readonly code: 'ERR_DOCKER' | 'ERR_DOCKER_TIMEOUT' | 'ERR_DOCKER_UNREACHABLE' | 'ERR_DOCKER_CANCELLED';
  readonly status: number | undefined;

  constructor(
    message: string,
    options: { status?: number; code?: DockerError['code']; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = options.code ?? 'ERR_DOCKER';
    this.status = options.status;
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}
