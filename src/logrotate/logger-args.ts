// The rotating logger's command line, as the launcher writes it: --log_filename (the sandbox
// file), --max_size (bytes), --rotate (old files kept) and --fd (the current file, already open).

export interface LoggerArgs {
  readonly directory: string;
  readonly name: string;
  readonly maxBytes: number;
  readonly keep: number;
  readonly fd: number | undefined;
}

const NAMES = ['log_filename', 'max_size', 'rotate', 'fd'];

export function parseLoggerArgs(argv: readonly string[]): LoggerArgs {
  const values = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z_]+)=(.*)$/s.exec(arg);
    if (!match || !NAMES.includes(match[1]!)) throw new Error(`unexpected argument '${arg}': expected --name=value with a name of ${NAMES.join(', ')}`);
    values.set(match[1]!, match[2]!);
  }
  const number = (name: string, min: number): number | undefined => {
    const text = values.get(name);
    if (text === undefined) return undefined;
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < min) {
      throw new Error(`--${name} must be a whole number of at least ${min}, got '${text}'`);
    }
    return Number(text);
  };
  const filename = values.get('log_filename');
  const maxBytes = number('max_size', 1);
  const keep = number('rotate', 0);
  if (!filename?.startsWith('/') || maxBytes === undefined || keep === undefined) {
    throw new Error('--log_filename (an absolute path), --max_size and --rotate are required');
  }
  const slash = filename.lastIndexOf('/');
  const name = filename.slice(slash + 1);
  if (name === '' || name === '.' || name === '..') throw new Error(`--log_filename must name a file, got '${filename}'`);
  return { directory: filename.slice(0, slash) || '/', name, maxBytes, keep, fd: number('fd', 3) };
}
