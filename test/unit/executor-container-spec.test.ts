import assert from 'node:assert/strict';
import { test } from 'node:test';
import { customExecutorRequest, executorContainerName, mesosImageRequest } from '../../src/agent/executor-container-spec.js';
import type { CreateRequest } from '../../src/docker/create-request.js';
import { InvalidTaskError } from '../../src/docker/invalid-task-error.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const context = {
  containerId: 'c1',
  sandbox: '/work/slaves/a/frameworks/f/executors/e/runs/c1',
  mappedDirectory: '/mnt/mesos/sandbox',
  environment: { MESOS_EXECUTOR_ID: 'e', MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'secret-token' },
  labels: { 'org.apache.mesos.container_id': 'c1' },
};

test('the --docker_mesos_image container: mounts, host namespaces, capabilities, the shim with the stock flags', () => {
  const body: CreateRequest = mesosImageRequest({
    ...context,
    image: 'mesos-docker-executor:local',
    dockerSocket: '/var/run/docker.sock',
    stateRoot: '/work/meta/docker-executor',
    flags: ['--container=mesos-c1', '--sandbox_directory=/work/slaves/a/frameworks/f/executors/e/runs/c1'],
    executorPath: '/opt/mesos-docker-executor/dist/mesos-docker-executor',
    output: { stdout: '/proc/10/fd/20', stderr: '/proc/10/fd/21' },
  });
  assert.equal(executorContainerName('c1'), 'mesos-c1.executor');
  assert.deepEqual(body.HostConfig, {
    Binds: [
      '/var/run/docker.sock:/var/run/docker.sock:ro',
      `${context.sandbox}:${context.sandbox}`,
      '/work/meta/docker-executor:/work/meta/docker-executor',
      '/sys/fs/cgroup:/sys/fs/cgroup:ro',
      `${context.sandbox}:/mnt/mesos/sandbox`,
    ],
    NetworkMode: 'host',
    PidMode: 'host',
    CapAdd: ['SYS_ADMIN', 'SYS_PTRACE'],
  });
  assert.deepEqual(body.Entrypoint!.slice(3), ['sh', '/proc/10/fd/20', '/proc/10/fd/21', '/opt/mesos-docker-executor/dist/mesos-docker-executor']);
  assert.deepEqual(body.Cmd, ['--container=mesos-c1', `--sandbox_directory=${context.sandbox}`]);
  assert.ok(body.Env.includes('MESOS_EXECUTOR_AUTHENTICATION_TOKEN=secret-token'), 'the token only in the environment');
  assert.ok(![...body.Entrypoint!, ...body.Cmd!].some((arg) => arg.includes('secret-token')));
  assert.ok(body.Env.includes('MESOS_CONTAINER_NAME=mesos-c1.executor'));
  assert.equal(body.Labels['org.apache.mesos.container_kind'], 'executor');
  assert.equal(body.Labels['org.apache.mesos.container_id'], 'c1');
  assert.throws(() => mesosImageRequest({ ...context, image: '--privileged', dockerSocket: '/s', stateRoot: '/r', flags: [], executorPath: '/x', output: { stdout: '/a', stderr: '/b' } }), InvalidTaskError);
  assert.throws(
    () => mesosImageRequest({ ...context, image: 'i', dockerSocket: '/s', stateRoot: '/r:/etc', flags: [], executorPath: '/x', output: { stdout: '/a', stderr: '/b' } }),
    /--state_dir '\/r:\/etc' cannot be mounted/,
  );
});

test('a framework executor image: its command and network, the sandbox at both paths, the agent contract over its environment', () => {
  const executor = mesos.v1.ExecutorInfo.fromObject({
    executor_id: { value: 'e' },
    command: { shell: false, value: '/bin/my-executor', arguments: ['--x'], environment: { variables: [{ name: 'MESOS_EXECUTOR_ID', value: 'forged' }, { name: 'OWN', value: '1' }] } },
    container: { type: 'DOCKER', docker: { image: 'team/executor:1' } },
  });
  const body = customExecutorRequest(executor, context);
  assert.equal(body.Image, 'team/executor:1');
  assert.equal(body.HostConfig.NetworkMode, 'host', 'HOST unless the ExecutorInfo says otherwise');
  assert.deepEqual(body.Cmd, ['/bin/my-executor', '--x']);
  assert.equal(body.HostConfig.Binds[0], `${context.sandbox}:${context.sandbox}`);
  assert.ok(body.HostConfig.Binds.includes(`${context.sandbox}:/mnt/mesos/sandbox`));
  assert.ok(body.Env.includes('MESOS_EXECUTOR_ID=e') && !body.Env.includes('MESOS_EXECUTOR_ID=forged'));
  assert.ok(body.Env.includes('OWN=1'));
  assert.equal(body.Labels['org.apache.mesos.container_kind'], 'executor');
  const bridged = mesos.v1.ExecutorInfo.fromObject({ ...executor.toJSON(), container: { type: 'DOCKER', docker: { image: 'team/executor:1', network: 'BRIDGE' } } });
  assert.equal(customExecutorRequest(bridged, context).HostConfig.NetworkMode, 'bridge');
});

test('a framework executor image: DockerInfo env parameters cannot override the agent contract either', () => {
  const executor = mesos.v1.ExecutorInfo.fromObject({
    executor_id: { value: 'e' },
    command: { shell: false, value: '/bin/my-executor' },
    container: {
      type: 'DOCKER',
      docker: {
        image: 'team/executor:1',
        parameters: [
          { key: 'env', value: 'MESOS_EXECUTOR_ID=forged' },
          { key: 'e', value: 'MESOS_EXECUTOR_AUTHENTICATION_TOKEN=forged-token' },
          { key: 'env', value: 'OWN=2' },
        ],
      },
    },
  });
  const env = customExecutorRequest(executor, context).Env;
  assert.deepEqual(env.filter((entry) => entry.startsWith('MESOS_EXECUTOR_')), ['MESOS_EXECUTOR_AUTHENTICATION_TOKEN=secret-token', 'MESOS_EXECUTOR_ID=e']);
  assert.ok(env.includes('OWN=2'), 'other env parameters still apply');
  assert.deepEqual(env, [...env].sort());
});
