// A Call, Event or other Mesos message that could not be encoded or decoded. The message names
// the field path and what was wrong; `cause` keeps the underlying error when there is one.
export class CodecError extends Error {
  readonly code = 'ERR_CODEC';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CodecError';
  }
}
