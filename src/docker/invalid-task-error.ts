// The TaskInfo cannot become a container: the message names the field, the value and what was expected.
export class InvalidTaskError extends Error {
  readonly code = 'ERR_INVALID_TASK';
}
