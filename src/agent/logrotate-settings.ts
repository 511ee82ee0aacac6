// The settings of the rotating container logger (Mesos's LogrotateContainerLogger): a size bound
// and a number of old files per stream, from the agent's flags (--max_stdout_size,
// --logrotate_stdout_options, ...) and, per task, from the task's environment
// (CONTAINER_LOGGER_MAX_STDOUT_SIZE, ...), which replaces the flag's value as in Mesos. The
// logrotate options are a logrotate configuration fragment in Mesos; here only `rotate N` is
// understood, and anything else is refused by name rather than silently ignored.
import { ExecutorError } from '../errors.js';
import { formatByteSize, parseByteSize } from '../fetcher/byte-size.js';
import { mesos } from '../proto/generated/mesos.js';

export interface StreamRotation {
  readonly maxBytes: number;
  // Old files kept: stdout.1 .. stdout.<keep>.
  readonly keep: number;
}

export interface LogrotateSettings {
  // The logger program (dist/logrotate.js), run by this Node.
  readonly loggerPath: string;
  readonly stdout: StreamRotation;
  readonly stderr: StreamRotation;
}

export type LoggedStream = 'stdout' | 'stderr';

// Mesos's defaults: 10MB, and logrotate's own `rotate 0` when no options are given.
export const DEFAULT_ROTATION: StreamRotation = { maxBytes: 10 * 1024 ** 2, keep: 0 };
// Mesos refuses a size below the page size: each rotation then moves at least a page.
export const MIN_MAX_SIZE = 4096;
// More old files than this is a typo, and costs a rename per file at every rotation.
export const MAX_KEEP = 1000;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseMaxSize(text: string): Parsed<number> {
  const parsed = parseByteSize(text);
  if (!parsed.ok) return parsed;
  if (parsed.bytes < MIN_MAX_SIZE) return { ok: false, error: `expected at least ${formatByteSize(MIN_MAX_SIZE)}, got '${text}'` };
  return { ok: true, value: parsed.bytes };
}

// The number of old files from logrotate options: lines (or `;`-separated parts) of `rotate N`;
// none at all means logrotate's default, 0.
export function parseLogrotateOptions(text: string): Parsed<number> {
  let keep: number | undefined;
  for (const part of text.split(/[\n;]/).map((line) => line.trim()).filter((line) => line !== '')) {
    const words = part.split(/\s+/);
    if (words[0] !== 'rotate') return { ok: false, error: `unsupported logrotate option '${words[0]}' (only 'rotate N' is supported)` };
    if (words.length !== 2 || !/^[0-9]+$/.test(words[1]!)) return { ok: false, error: `expected 'rotate N' with N a whole number of files, got '${part}'` };
    const count = Number(words[1]);
    if (count > MAX_KEEP) return { ok: false, error: `expected at most ${MAX_KEEP} rotated files, got '${part}'` };
    if (keep !== undefined) return { ok: false, error: `'rotate' is given more than once in '${text}'` };
    keep = count;
  }
  return { ok: true, value: keep ?? DEFAULT_ROTATION.keep };
}

// A bad per-task override: the task fails before its executor starts.
export class ContainerLoggerError extends ExecutorError<'ERR_CONTAINER_LOGGER'> {
  constructor(message: string) {
    super(message, { name: 'ContainerLoggerError', code: 'ERR_CONTAINER_LOGGER' });
  }
}

// The task environment's names, as the Mesos module reads them.
export function overrideNames(stream: LoggedStream): { size: string; options: string } {
  const upper = stream.toUpperCase();
  return { size: `CONTAINER_LOGGER_MAX_${upper}_SIZE`, options: `CONTAINER_LOGGER_LOGROTATE_${upper}_OPTIONS` };
}

// The agent's settings with the task's overrides applied; throws ContainerLoggerError naming the
// variable when one is bad. The variables stay in the task's environment (its container sees them).
export function taskLogrotateSettings(settings: LogrotateSettings, task: mesos.v1.ITaskInfo): LogrotateSettings {
  const variables = new Map<string, mesos.v1.Environment.IVariable>();
  for (const variable of task.command?.environment?.variables ?? []) if (variable.name) variables.set(variable.name, variable);
  const value = (name: string): string | undefined => {
    const variable = variables.get(name);
    if (variable === undefined) return undefined;
    if (variable.type === mesos.v1.Environment.Variable.Type.SECRET) {
      throw new ContainerLoggerError(`Invalid ${name} in the task's environment: expected a plain value, not a SECRET`);
    }
    return variable.value ?? '';
  };
  const stream = (which: LoggedStream): StreamRotation => {
    const names = overrideNames(which);
    const size = value(names.size);
    const options = value(names.options);
    const parsedSize = size === undefined ? undefined : parseMaxSize(size);
    if (parsedSize && !parsedSize.ok) throw new ContainerLoggerError(`Invalid ${names.size} in the task's environment: ${parsedSize.error}`);
    const parsedOptions = options === undefined ? undefined : parseLogrotateOptions(options);
    if (parsedOptions && !parsedOptions.ok) throw new ContainerLoggerError(`Invalid ${names.options} in the task's environment: ${parsedOptions.error}`);
    return { maxBytes: parsedSize?.value ?? settings[which].maxBytes, keep: parsedOptions?.value ?? settings[which].keep };
  };
  return { ...settings, stdout: stream('stdout'), stderr: stream('stderr') };
}
