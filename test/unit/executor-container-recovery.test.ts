import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentPolicy } from '../../src/agent/agent-policy-flags.js';
import { executorContainerVerdict, type ExecutorContainerIdentity } from '../../src/agent/serve/executor-container-recovery.js';
import { parseFlags } from '../../src/config/flags.js';
import { POLICY_FLAGS } from '../../src/config/policy-flags.js';
import type { ContainerInspect } from '../../src/docker/container-inspect.js';

const identity: ExecutorContainerIdentity = {
  frameworkId: 'f', agentId: 'a', executorId: 'e', taskId: 't', containerId: 'c', sandbox: '/w/s', dockerId: 'd'.repeat(64),
};
const labels = {
  'org.apache.mesos.container_kind': 'executor',
  'org.apache.mesos.framework_id': 'f',
  'org.apache.mesos.agent_id': 'a',
  'org.apache.mesos.executor_id': 'e',
  'org.apache.mesos.task_id': 't',
  'org.apache.mesos.container_id': 'c',
  'org.apache.mesos.sandbox': '/w/s',
};

function inspect(overrides: { Id?: string; Labels?: Record<string, string>; Running?: boolean; ExitCode?: number } = {}): ContainerInspect {
  return {
    Id: overrides.Id ?? identity.dockerId,
    State: { Running: overrides.Running ?? true, ExitCode: overrides.ExitCode ?? 0 },
    Config: { Labels: overrides.Labels ?? labels },
  } as ContainerInspect;
}

test('an executor container is taken back only when it runs and its id and labels are this task\'s', () => {
  assert.deepEqual(executorContainerVerdict(inspect(), identity), { kind: 'running', dockerId: identity.dockerId });
  assert.deepEqual(executorContainerVerdict(inspect({ Running: false, ExitCode: 137 }), identity), { kind: 'exited', dockerId: identity.dockerId, exitCode: 137 });
  assert.deepEqual(executorContainerVerdict(undefined, identity), { kind: 'absent' });
  // A container of that name made by someone else, or a task container, is never acted on.
  assert.equal(executorContainerVerdict(inspect({ Id: 'e'.repeat(64) }), identity).kind, 'not-ours');
  const { ['org.apache.mesos.container_kind']: _kind, ...taskContainerLabels } = labels;
  assert.deepEqual(executorContainerVerdict(inspect({ Labels: taskContainerLabels }), identity), { kind: 'not-ours', why: 'its label org.apache.mesos.container_kind differs' });
  for (const key of Object.keys(labels).filter((key) => key !== 'org.apache.mesos.container_kind')) {
    const verdict = executorContainerVerdict(inspect({ Labels: { ...labels, [key]: 'other' } }), identity);
    assert.deepEqual(verdict, { kind: 'not-ours', why: `its label ${key} differs` }, key);
  }
  // Without a checkpointed id (the agent died before the create returned), the labels decide.
  const { dockerId: _id, ...byName } = identity;
  assert.equal(executorContainerVerdict(inspect({ Id: 'e'.repeat(64) }), byName).kind, 'running');
});

test('the local agent\'s policy flags: the policy, and the flags as given for its executors', () => {
  const { policy, executorFlags } = agentPolicy(parseFlags(['--allow_privileged=false', '--allowed_capabilities='], POLICY_FLAGS));
  assert.equal(policy.allowPrivileged, false);
  assert.deepEqual([...policy.allowedCapabilities!], []);
  assert.equal(policy.allowedHostPaths, undefined);
  assert.deepEqual(executorFlags, ['--allow_privileged=false', '--allowed_capabilities=']);
  assert.deepEqual(agentPolicy(parseFlags([], POLICY_FLAGS)).executorFlags, []);
});
