// The base of this project's errors, in the shape of undici's: `name` is the class's name, `code` a
// stable string to branch on, `cause` the underlying error when there is one. The name is given,
// not read from the constructor, because the bundle is minified and class names do not survive it.
export class ExecutorError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(message: string, options: { readonly name: string; readonly code: Code; readonly cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = options.name;
    this.code = options.code;
  }
}
