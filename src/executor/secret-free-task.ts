// The TaskInfo as it may be written to disk: every Secret's value emptied (environment variables
// of the command, the health check and the check, secret and CSI volumes, image pull configs),
// the deprecated Credential.secret and the framework's opaque `data` dropped. Which checks lost a
// secret is reported, so that an executor restarted from this copy does not run them blind.
import { mesos } from '../proto/generated/mesos.js';

// Fields whose value is a Secret message, and maps of them.
const SECRET_FIELDS = new Set(['secret', 'config']);
const SECRET_MAPS = new Set(['node_stage_secrets', 'node_publish_secrets']);

export function withoutSecretValues(task: mesos.v1.ITaskInfo): mesos.v1.ITaskInfo {
  const copy = scrub(task) as mesos.v1.ITaskInfo & { data?: unknown };
  delete copy.data;
  return copy;
}

// Whether a check's command environment needs a SECRET value (which no disk copy holds).
export function checkNeedsSecrets(command: mesos.v1.ICommandInfo | null | undefined): boolean {
  return (command?.environment?.variables ?? []).some((variable) => variable.type === mesos.v1.Environment.Variable.Type.SECRET);
}

function scrub(value: unknown, key = ''): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, key));
  if (SECRET_FIELDS.has(key)) return emptySecret(value as mesos.v1.ISecret);
  const result: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    if (key === 'credential' && name === 'secret') continue;
    if (SECRET_MAPS.has(name) && field && typeof field === 'object') {
      result[name] = Object.fromEntries(Object.entries(field).map(([entry, secret]) => [entry, emptySecret(secret as mesos.v1.ISecret)]));
      continue;
    }
    result[name] = scrub(field, name);
  }
  return result;
}

function emptySecret(secret: mesos.v1.ISecret): mesos.v1.ISecret {
  return {
    ...(secret.type != null ? { type: secret.type } : {}),
    ...(secret.reference ? { reference: scrub(secret.reference) as mesos.v1.Secret.IReference } : {}),
    ...(secret.value ? { value: { data: new Uint8Array(0) } } : {}),
  };
}

// Names of the task's SECRET environment variables, whose values never leave in a status or a file.
export function secretVariableNames(task: mesos.v1.ITaskInfo | undefined): Set<string> {
  const variables = task?.command?.environment?.variables ?? [];
  return new Set(variables.filter((variable) => variable.type === mesos.v1.Environment.Variable.Type.SECRET && variable.name).map((variable) => variable.name!));
}
