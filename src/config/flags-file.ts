// Operator flags from a file: a Mesos agent starts the executor with a fixed flag set it cannot
// extend, so operator policy comes from here. One --name=value per line, '#' starts a comment
// line. The file is trusted only when nobody but root (or the executor's own user) can change it.
// Flags on the command line win over the file's.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ConfigError } from './config-error.js';
import { parseFlags, type FlagSpec, type RawFlags } from './flags.js';

export const DEFAULT_FLAGS_FILE = '/etc/mesos-docker-executor/flags';

export const FLAGS_FILE_FLAG: FlagSpec = {
  name: 'flags_file',
  kind: 'string',
  help: 'File of operator flags, one --name=value a line (a missing default file is no flags); command-line flags win',
  default: DEFAULT_FLAGS_FILE,
};

// Far more than any set of flags; a bound so that a wrong path cannot make us read gigabytes.
const MAX_FLAGS_FILE_BYTES = 64 * 1024;

// The command-line flags with those of the flags file beneath them.
export function withFlagsFile(cli: RawFlags, specs: readonly FlagSpec[], uid: number = process.getuid?.() ?? 0): RawFlags {
  const given = cli.get(FLAGS_FILE_FLAG.name);
  const path = given ?? DEFAULT_FLAGS_FILE;
  const text = readFlagsFile(path, given !== undefined, uid);
  if (text === undefined) return cli;
  return new Map([...parseFlagsText(path, text, specs), ...cli]);
}

// The file's text, or undefined when the default file does not exist. A file named on the command line must exist.
export function readFlagsFile(path: string, required: boolean, uid: number): string | undefined {
  if (!isAbsolute(path)) throw new ConfigError(`Invalid --flags_file '${path}': expected an absolute path`);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the path must not hang the executor before fstat refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    if (code === 'ELOOP') throw new ConfigError(`Refusing flags file '${path}': it is a symbolic link; expected a regular file`);
    throw new ConfigError(`Cannot open flags file '${path}': ${code ?? (error as Error).message}`, { cause: error });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ConfigError(`Refusing flags file '${path}': it is not a regular file`);
    if (stat.uid !== 0 && stat.uid !== uid) {
      throw new ConfigError(`Refusing flags file '${path}': it is owned by uid ${stat.uid}; expected root or the executor's uid ${uid}`);
    }
    if ((stat.mode & 0o022) !== 0) {
      throw new ConfigError(
        `Refusing flags file '${path}': it is writable by group or others (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}); expected at most 0644 (chmod go-w)`,
      );
    }
    if (stat.size > MAX_FLAGS_FILE_BYTES) {
      throw new ConfigError(`Refusing flags file '${path}': it has ${stat.size} bytes; expected at most ${MAX_FLAGS_FILE_BYTES}`);
    }
    const buffer = Buffer.alloc(MAX_FLAGS_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MAX_FLAGS_FILE_BYTES) throw new ConfigError(`Refusing flags file '${path}': it grew beyond ${MAX_FLAGS_FILE_BYTES} bytes`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

// Lines as flags; an error names the file and the line, never quoting a value the file may hold.
export function parseFlagsText(path: string, text: string, specs: readonly FlagSpec[]): RawFlags {
  const flags: RawFlags = new Map();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `flags file '${path}' line ${index + 1}`;
    if (!line.startsWith('--')) throw new ConfigError(`In ${where}: expected --name=value or a # comment`);
    let parsed: RawFlags;
    try {
      parsed = parseFlags([line], specs);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new ConfigError(`In ${where}: ${error.message}`, { cause: error });
    }
    for (const [name, value] of parsed) {
      if (name === FLAGS_FILE_FLAG.name) throw new ConfigError(`In ${where}: --flags_file can only be given on the command line`);
      if (flags.has(name)) throw new ConfigError(`In ${where}: flag '--${name}' was given more than once`);
      flags.set(name, value);
    }
  });
  return flags;
}
