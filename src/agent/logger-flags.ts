// The container logger's flags, named after the Mesos agent's (--container_logger) and the
// LogrotateContainerLogger module's parameters (--max_stdout_size, --logrotate_stdout_options,
// ...), shared by `agent.js run` and `agent.js serve`.
import { existsSync } from 'node:fs';
import { ConfigError } from '../config/config-error.js';
import type { FlagSpec, RawFlags } from '../config/flags.js';
import { formatByteSize } from '../fetcher/byte-size.js';
import { DEFAULT_ROTATION, parseLogrotateOptions, parseMaxSize, type LogrotateSettings, type LoggedStream, type StreamRotation } from './logrotate-settings.js';

// The Mesos module's name is accepted as well as the short one.
const ROTATE = ['rotate', 'org_apache_mesos_LogrotateContainerLogger'];
const SANDBOX = ['sandbox', ''];

export function loggerFlags(): FlagSpec[] {
  const size = formatByteSize(DEFAULT_ROTATION.maxBytes);
  return [
    { name: 'container_logger', kind: 'string', help: 'Where executors\' stdout and stderr go: sandbox (the sandbox files, unbounded) or rotate (alias org_apache_mesos_LogrotateContainerLogger: stdout, stdout.1, ... bounded by the flags below; docs/log-rotation.md)', default: 'sandbox' },
    { name: 'max_stdout_size', kind: 'string', help: 'With rotate: the size at which stdout is rotated (B, KB, MB, GB; at least 4KB); CONTAINER_LOGGER_MAX_STDOUT_SIZE in a task\'s environment overrides it', default: size },
    { name: 'max_stderr_size', kind: 'string', help: 'With rotate: the same for stderr (CONTAINER_LOGGER_MAX_STDERR_SIZE)', default: size },
    { name: 'logrotate_stdout_options', kind: 'string', help: 'With rotate: \'rotate N\' keeps N old files stdout.1 .. stdout.N (the only logrotate option supported); CONTAINER_LOGGER_LOGROTATE_STDOUT_OPTIONS overrides it', default: 'rotate 0 (logrotate\'s default: no old file kept)' },
    { name: 'logrotate_stderr_options', kind: 'string', help: 'With rotate: the same for stderr (CONTAINER_LOGGER_LOGROTATE_STDERR_OPTIONS)', default: 'rotate 0' },
  ];
}

// The rotating logger's settings from the flags given, or undefined for the sandbox logger.
// `loggerPath` is dist/logrotate.js beside the running agent.
export function loggerSettings(flags: RawFlags, loggerPath: string): LogrotateSettings | undefined {
  const kind = flags.get('container_logger') ?? 'sandbox';
  const rotationFlags = ['max_stdout_size', 'max_stderr_size', 'logrotate_stdout_options', 'logrotate_stderr_options'];
  if (SANDBOX.includes(kind)) {
    const given = rotationFlags.filter((name) => flags.has(name));
    if (given.length > 0) throw new ConfigError(`--${given[0]} needs --container_logger=rotate (the sandbox logger does not rotate)`);
    return undefined;
  }
  if (!ROTATE.includes(kind)) {
    throw new ConfigError(`Invalid --container_logger: expected 'sandbox' or 'rotate' (or org_apache_mesos_LogrotateContainerLogger), got '${kind}'`);
  }
  if (!existsSync(loggerPath)) throw new ConfigError(`The logger '${loggerPath}' does not exist: run 'npm run build' first`);
  const stream = (which: LoggedStream): StreamRotation => {
    const sizeFlag = `max_${which}_size`;
    const optionsFlag = `logrotate_${which}_options`;
    const size = flags.get(sizeFlag);
    const options = flags.get(optionsFlag);
    const parsedSize = size === undefined ? undefined : parseMaxSize(size);
    if (parsedSize && !parsedSize.ok) throw new ConfigError(`Invalid --${sizeFlag}: ${parsedSize.error}`);
    const parsedOptions = options === undefined ? undefined : parseLogrotateOptions(options);
    if (parsedOptions && !parsedOptions.ok) throw new ConfigError(`Invalid --${optionsFlag}: ${parsedOptions.error}`);
    return { maxBytes: parsedSize?.value ?? DEFAULT_ROTATION.maxBytes, keep: parsedOptions?.value ?? DEFAULT_ROTATION.keep };
  };
  return { loggerPath, stdout: stream('stdout'), stderr: stream('stderr') };
}
