// Where a bind source really is on the host: the kernel follows symbolic links when Docker
// mounts it, so a link in the sandbox (a fetched archive may hold one) or under an allowed prefix
// must be judged by its target. Docker creates a missing source, so the existing part decides.
import { lstatSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';

// The real path, or undefined for a dangling or looping link, where Docker's result cannot be foreseen.
export function realHostPath(path: string): string | undefined {
  const missing: string[] = [];
  let existing = posix.normalize(path);
  for (;;) {
    try {
      return posix.join(realpathSync.native(existing), ...missing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
      if (isLink(existing)) return undefined;
    }
    if (existing === '/') return undefined;
    missing.unshift(posix.basename(existing));
    existing = posix.dirname(existing);
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
