// The executor's own diagnostics: one line each on stderr (the sandbox `stdout` file belongs to
// the container). Every line passes through redaction of the secret values registered here.

export type LogLevel = 'INFO' | 'WARNING' | 'ERROR';

const RANK: Record<LogLevel, number> = { INFO: 0, WARNING: 1, ERROR: 2 };
const REDACTED = '***';

const secrets = new Set<string>();
// Every secret in one alternation, longest first, so that a secret that is a prefix of another
// never leaves the rest of the longer one visible; rebuilt when the set changes.
let pattern: RegExp | undefined;
let threshold: LogLevel = 'INFO';
let component = 'executor';
let sink: (line: string) => void = (line) => {
  process.stderr.write(line);
};

export function configureLog(options: { level?: LogLevel; component?: string; sink?: (line: string) => void }): void {
  if (options.level) threshold = options.level;
  if (options.component) component = options.component;
  if (options.sink) sink = options.sink;
}

// Values registered here are replaced in every log line and every status message, whatever
// their length: a short one may mask ordinary text too, which is better than showing it.
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value === '' || secrets.has(value)) return;
  secrets.add(value);
  const alternatives = [...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
  pattern = new RegExp(alternatives.join('|'), 'g');
}

export function redact(text: string): string {
  return pattern === undefined ? text : text.replace(pattern, REDACTED);
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|\/-]/g, '\\$&');
}

// What the lines written below look like, so that they can be told apart from a container's
// lines in the shared sandbox `stderr` file.
export const DIAGNOSTIC_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z [IWE] executor: /;

function write(level: LogLevel, message: string): void {
  if (RANK[level] < RANK[threshold]) return;
  sink(`${new Date().toISOString()} ${level[0]} ${component}: ${redact(message)}\n`);
}

export const log = {
  info: (message: string): void => write('INFO', message),
  warn: (message: string): void => write('WARNING', message),
  error: (message: string): void => write('ERROR', message),
};

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
