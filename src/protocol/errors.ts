import { ExecutorError } from '../errors.js';

// A Call, Event or other Mesos message that could not be encoded or decoded. The message names
// the field path and what was wrong; `cause` keeps the underlying error when there is one.
export class CodecError extends ExecutorError<'ERR_CODEC'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'CodecError', code: 'ERR_CODEC', cause: options.cause });
  }
}
