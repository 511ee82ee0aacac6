// Executor tokens (MESOS_EXECUTOR_AUTHENTICATION_TOKEN): one per executor, derived from a key the
// agent holds, so that an executor (whose image may be a framework's own code) can act only as
// itself, and a restarted agent knows every token without keeping any.
import { createHmac } from 'node:crypto';

export function executorTokenFor(key: string, executorId: string, containerId: string): string {
  return createHmac('sha256', key).update(`${executorId}:${containerId}`).digest('hex');
}
