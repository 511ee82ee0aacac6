// Which names an archive may create in the sandbox. An entry is refused when it is absolute, has
// a '..' component or a NUL byte; a link is refused when what it points at lies outside the
// sandbox. Every name this returns is a relative POSIX path without '.' or '..' components.
import { posix } from 'node:path';
import { FetchProblem } from './fetch-error.js';

// The entry's path relative to the extraction root; '' for the root itself ("./").
export function entryPath(name: string): string {
  if (name.includes('\0')) throw refused(name, 'has a NUL byte in its name');
  if (name.startsWith('/')) throw refused(name, 'is an absolute name');
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw refused(name, "has a '..' component");
  return parts.join('/');
}

// A symbolic link's target, checked as the link's directory resolves it: an absolute target, or
// a relative one that climbs above the extraction root, is refused.
export function symlinkTarget(entry: string, target: string): string {
  if (target === '' || target.includes('\0')) throw refused(entry, 'is a symbolic link with an empty or invalid target');
  if (target.startsWith('/')) throw refused(entry, `is a symbolic link to the absolute path '${target}'`);
  const resolved = posix.normalize(posix.join(posix.dirname(entry), target));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw refused(entry, `is a symbolic link to '${target}', which points outside the sandbox`);
  }
  return target;
}

// A hard link's target is another entry's name (from the archive's root), under the same rules.
export function hardlinkTarget(entry: string, target: string): string {
  try {
    const path = entryPath(target);
    if (path === '') throw new Error('root');
    return path;
  } catch {
    throw refused(entry, `is a hard link to '${target}', which is not a file inside the sandbox`);
  }
}

function refused(name: string, why: string): FetchProblem {
  return new FetchProblem(`archive entry '${printable(name)}' ${printable(why)}; refusing to extract it`, 'ERR_FETCH_ARCHIVE');
}

// Names come from the archive: control characters would break a one-line message.
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}
