// Writing a file into the sandbox as root: the container owns every name there, so the file is
// replaced atomically (src/atomic-write.ts: an exclusive, link-refusing temporary name renamed
// over the target) after checking that the temporary file lies in the sandbox's real directory.
// A link planted at the target is replaced, never written through; a directory there makes it fail.
import { readlinkSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { AtomicWriteError, writeFileAtomically } from './atomic-write.js';
import { SandboxFileError } from './sandbox-file.js';

// `name` is a plain file name directly in the sandbox.
export function writeSandboxFile(sandbox: string, name: string, content: string | Buffer): void {
  if (basename(name) !== name || name === '.' || name === '..') throw new Error(`Not a file name in the sandbox: ${name}`);
  // The sandbox directory itself comes from the agent; only what lies below it is the task's.
  const root = realpathSync(sandbox);
  try {
    writeFileAtomically(root, name, content, {
      mode: 0o644,
      verify: (fd, temporaryPath) => {
        if (readlinkSync(`/proc/self/fd/${fd}`) !== temporaryPath) {
          throw new SandboxFileError(name, 'would not be written inside the sandbox; refusing to write it', 'ERR_SANDBOX_FILE_OUTSIDE');
        }
      },
    });
  } catch (error) {
    if (!(error instanceof AtomicWriteError)) throw error;
    const why = error.stage === 'create' ? 'cannot be created' : 'cannot be replaced';
    throw new SandboxFileError(name, `${why} (${error.errno ?? 'error'})`, 'ERR_SANDBOX_FILE_UNREADABLE');
  }
}
