// Which sandbox an API path names, and the names below it. A path is either a virtual one,
// `/tasks/<taskId>/...` (the task's sandbox), or the sandbox's absolute path on the host as
// Mesos's /files endpoints take it. Names are taken one by one: `..` is refused, never resolved,
// so that no spelling of a path leaves the sandbox before a file is even looked at.
export interface SandboxLocation {
  readonly taskId: string;
  readonly sandbox: string;
  // The names below the sandbox, in order (empty for the sandbox itself).
  readonly names: readonly string[];
  // How the caller spelled the sandbox: `/tasks/<id>` or its absolute path (for browse entries).
  readonly prefix: string;
}

export type LocateResult = { ok: true; location: SandboxLocation } | { ok: false; status: 400 | 404; reason: string };

export function locateInSandbox(path: string, sandboxes: ReadonlyMap<string, string>): LocateResult {
  if (!path.startsWith('/')) return { ok: false, status: 400, reason: `Invalid path '${path}': expected an absolute path (a sandbox path or /tasks/<taskId>/...)` };
  if (path.includes('\0')) return { ok: false, status: 400, reason: 'Invalid path: it holds a NUL byte' };
  const names = path.split('/').filter((name) => name !== '' && name !== '.');
  if (names.includes('..')) return { ok: false, status: 400, reason: `Invalid path '${path}': '..' is not allowed` };
  if (names[0] === 'tasks' && names.length >= 2) {
    const taskId = names[1]!;
    const sandbox = sandboxes.get(taskId);
    if (sandbox === undefined) return { ok: false, status: 404, reason: `No sandbox for task '${taskId}'` };
    return { ok: true, location: { taskId, sandbox, names: names.slice(2), prefix: `/tasks/${taskId}` } };
  }
  for (const [taskId, sandbox] of sandboxes) {
    const own = sandbox.split('/').filter((name) => name !== '');
    if (own.length <= names.length && own.every((name, i) => names[i] === name)) {
      return { ok: true, location: { taskId, sandbox, names: names.slice(own.length), prefix: `/${own.join('/')}` } };
    }
  }
  return { ok: false, status: 404, reason: `No sandbox holds '${path}'` };
}
