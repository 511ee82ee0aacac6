// A failed Docker Engine API call: the daemon's own message, the HTTP status when there was one,
// and whether the call timed out (so callers can tell a hung daemon from a refusal).
export class DockerError extends Error {
  readonly code: 'ERR_DOCKER' | 'ERR_DOCKER_TIMEOUT' | 'ERR_DOCKER_UNREACHABLE';
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
