import { ExecutorError } from '../errors.js';

// A bad flag or environment value: the message is one line that names the value and what was expected.
export class ConfigError extends ExecutorError<'ERR_CONFIG'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'ConfigError', code: 'ERR_CONFIG', cause: options.cause });
  }
}
