import { ExecutorError } from '../errors.js';

// The TaskInfo cannot become a container: the message names the field, the value and what was expected.
export class InvalidTaskError extends ExecutorError<'ERR_INVALID_TASK'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'InvalidTaskError', code: 'ERR_INVALID_TASK', cause: options.cause });
  }
}
