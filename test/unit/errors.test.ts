// Every error of the project shares one base: its class name as `name` (given explicitly, so it
// survives the minified bundle), a stable `code`, and the underlying error as `cause`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SandboxOutputError } from '../../src/agent/launcher.js';
import { TaskFileError } from '../../src/agent/task-file.js';
import { InvalidCheckError } from '../../src/checks/check-definition.js';
import { HelperProgramError } from '../../src/checks/helper-programs.js';
import { ChildError } from '../../src/checks/run-child.js';
import { ConfigError } from '../../src/config/config-error.js';
import { ContainerDnsError } from '../../src/docker/container-dns.js';
import { DockerError } from '../../src/docker/docker-error.js';
import { ImagePullError } from '../../src/docker/image-pull.js';
import { InvalidTaskError } from '../../src/docker/invalid-task-error.js';
import { OutputDemuxError } from '../../src/docker/output-demux.js';
import { RegistryAuthError } from '../../src/docker/registry-auth.js';
import { ExecutorError } from '../../src/errors.js';
import { AgentCallError } from '../../src/executor/agent-connection.js';
import { CheckpointError } from '../../src/executor/checkpoint.js';
import { CodecError } from '../../src/protocol/errors.js';
import { RecordIOError } from '../../src/protocol/recordio.js';
import { SandboxFileError } from '../../src/sandbox-file.js';
import { ExecutorLockError } from '../../src/state/executor-lock.js';
import { PrivateFileError } from '../../src/state/private-file.js';
import { StateDirectoryError } from '../../src/state/state-directory.js';

const inner = new Error('the underlying failure');

test('each error class names itself, keeps its code and its cause', () => {
  const cases: Array<[ExecutorError, string, string, unknown]> = [
    [new SandboxOutputError('m', { cause: inner }), 'SandboxOutputError', 'ERR_SANDBOX_OUTPUT', inner],
    [new TaskFileError('m', { cause: inner }), 'TaskFileError', 'ERR_TASK_FILE', inner],
    [new InvalidCheckError('m', { cause: inner }), 'InvalidCheckError', 'ERR_INVALID_CHECK', inner],
    [new HelperProgramError('m', { cause: inner }), 'HelperProgramError', 'ERR_HELPER_PROGRAM_MISSING', inner],
    [new ChildError('m', { cause: inner }), 'ChildError', 'ERR_CHECK_CHILD', inner],
    [new ConfigError('m', { cause: inner }), 'ConfigError', 'ERR_CONFIG', inner],
    [new ContainerDnsError('m', { cause: inner }), 'ContainerDnsError', 'ERR_CONTAINER_DNS', inner],
    [new DockerError('m', { cause: inner }), 'DockerError', 'ERR_DOCKER', inner],
    [new DockerError('m', { code: 'ERR_DOCKER_TIMEOUT' }), 'DockerError', 'ERR_DOCKER_TIMEOUT', undefined],
    [new ImagePullError('m', { kind: 'not-found', image: 'busybox', cause: inner }), 'ImagePullError', 'ERR_IMAGE_NOT_FOUND', inner],
    [new InvalidTaskError('m', { cause: inner }), 'InvalidTaskError', 'ERR_INVALID_TASK', inner],
    [new OutputDemuxError('m', { cause: inner }), 'OutputDemuxError', 'ERR_OUTPUT_STREAM', inner],
    [new RegistryAuthError('m', { code: 'ERR_REGISTRY_AUTH_INVALID', source: 'the task', cause: inner }), 'RegistryAuthError', 'ERR_REGISTRY_AUTH_INVALID', inner],
    [new AgentCallError('m', 503, inner), 'AgentCallError', 'ERR_AGENT_CALL', inner],
    [new CheckpointError('m', { cause: inner }), 'CheckpointError', 'ERR_CHECKPOINT', inner],
    [new CodecError('m', { cause: inner }), 'CodecError', 'ERR_CODEC', inner],
    [new RecordIOError('m'), 'RecordIOError', 'ERR_RECORDIO', undefined],
    [new SandboxFileError('stdout', 'is a link', 'ERR_SANDBOX_FILE_LINK'), 'SandboxFileError', 'ERR_SANDBOX_FILE_LINK', undefined],
    [new ExecutorLockError('m', { cause: inner }), 'ExecutorLockError', 'ERR_EXECUTOR_LOCK', inner],
    [new PrivateFileError('m', { cause: inner }), 'PrivateFileError', 'ERR_PRIVATE_FILE', inner],
    [new StateDirectoryError('m', { cause: inner }), 'StateDirectoryError', 'ERR_STATE_DIRECTORY', inner],
  ];
  for (const [error, name, code, cause] of cases) {
    assert.ok(error instanceof ExecutorError, name);
    assert.ok(error instanceof Error, name);
    assert.equal(error.name, name);
    assert.equal(error.constructor.name, name, 'the name given is the class name');
    assert.equal(error.code, code, name);
    assert.equal(error.cause, cause, name);
    assert.equal(Object.hasOwn(error, 'cause'), cause !== undefined, `${name}: no cause property without a cause`);
    assert.match(String(error), new RegExp(`^${name}: `));
  }
});

test('the extra fields stay', () => {
  const docker = new DockerError('gone', { status: 404 });
  assert.equal(docker.status, 404);
  assert.equal(docker.notFound, true);
  const pull = new ImagePullError('m', { kind: 'authentication', image: 'private/x', daemonMessage: 'denied' });
  assert.deepEqual([pull.kind, pull.image, pull.daemonMessage], ['authentication', 'private/x', 'denied']);
  assert.equal(new RegistryAuthError('m', { code: 'ERR_REGISTRY_AUTH_UNREADABLE', source: '--docker_config' }).source, '--docker_config');
  assert.equal(new AgentCallError('m', 400).status, 400);
  assert.equal(new SandboxFileError('.docker/config.json', 'is a link', 'ERR_SANDBOX_FILE_LINK').relative, '.docker/config.json');
  assert.equal(new SandboxFileError('.docker/config.json', 'is a link', 'ERR_SANDBOX_FILE_LINK').message, 'sandbox .docker/config.json is a link');
  assert.deepEqual(new RecordIOError('m').records, []);
});
