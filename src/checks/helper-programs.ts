// The host programs the executor runs for checks (nsenter, curl, bash), and the local agent for
// its loggers' FIFOs (mkfifo), found only in a fixed list of system directories: never through
// the PATH the executor was started with, which a task's environment can set.
import { accessSync, constants, statSync } from 'node:fs';
import { ExecutorError } from '../errors.js';

export const TRUSTED_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// Where each program comes from, for the error that says what to install.
const PACKAGES = { nsenter: 'util-linux', curl: 'curl', bash: 'bash', mkfifo: 'coreutils' } as const;

export type HelperProgram = keyof typeof PACKAGES;

export class HelperProgramError extends ExecutorError<'ERR_HELPER_PROGRAM_MISSING'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'HelperProgramError', code: 'ERR_HELPER_PROGRAM_MISSING', cause: options.cause });
  }
}

// The absolute path of the first executable file named `name` in TRUSTED_PATH.
export function helperProgram(name: HelperProgram, isExecutable: (path: string) => boolean = executableFile): string {
  for (const directory of TRUSTED_PATH.split(':')) {
    const path = `${directory}/${name}`;
    if (isExecutable(path)) return path;
  }
  throw new HelperProgramError(`${name} not found in ${TRUSTED_PATH}; install ${PACKAGES[name]}`);
}

function executableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
