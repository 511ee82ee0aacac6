// A bad flag or environment value: the message is one line that names the value and what was expected.
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
}
