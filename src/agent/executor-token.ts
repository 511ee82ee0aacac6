// Executor tokens (MESOS_EXECUTOR_AUTHENTICATION_TOKEN): one per executor, derived from a key the
// agent holds, so that an executor (whose image may be a framework's own code) can act only as
// itself, and a restarted agent knows every token without keeping any.
import { createHmac } from 'node:crypto';

export function executorTokenFor(key: string, executorId: string, containerId: string): string {
  return createHmac('sha256', key).update(`${executorId}:${containerId}`).digest('hex');
}

// The key a serve agent derives its executors' tokens from: from the operator's token, so that a
// restarted agent knows it without keeping it on disk, and no executor token opens the API.
export function executorTokenKey(agentToken: string, agentId: string): string {
  return createHmac('sha256', agentToken).update(`executor:${agentId}`).digest('hex');
}
