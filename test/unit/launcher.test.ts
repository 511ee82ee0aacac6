// The local launcher gives an executor the agent's contract only, never the task's environment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executorEnvironment, type LaunchSpec } from '../../src/agent/launcher.js';

test("the task's environment never reaches the executor's", () => {
  const spec: LaunchSpec = {
    executorPath: '/opt/mesos/libexec/mesos-docker-executor',
    workDir: '/tmp/work',
    agentId: 'agent-1',
    frameworkId: 'framework-1',
    executorId: 'executor-1',
    containerId: 'container-1',
    task: { name: 'task', task_id: { value: 'executor-1' }, agent_id: { value: 'agent-1' }, command: { environment: { variables: [{ name: 'NODE_OPTIONS', value: '--require=/x.js' }, { name: 'PATH', value: '/sandbox/bin' }, { name: 'MESOS_DIRECTORY', value: '/elsewhere' }] } } },
    agentHost: '127.0.0.1',
    agentPort: 5051,
    checkpoint: false,
    shutdownGracePeriodMs: 5000,
    recoveryTimeoutMs: 900_000,
    subscriptionBackoffMaxMs: 2000,
    authToken: 'token',
    dockerSocket: '/var/run/docker.sock',
    mappedDirectory: '/mnt/mesos/sandbox',
  };
  const env = executorEnvironment(spec, '/tmp/work/sandbox');
  assert.equal(env.NODE_OPTIONS, undefined);
  assert.equal(env.PATH, undefined);
  assert.equal(env.MESOS_DIRECTORY, '/tmp/work/sandbox');
  assert.equal(env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN, 'token');
  assert.ok(Object.keys(env).every((name) => /^(MESOS|LIBPROCESS)_/.test(name)), Object.keys(env).join(' '));
});
