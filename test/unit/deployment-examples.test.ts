// The README's deployment recipes point at examples/*.json: each must decode as the agent's Mesos
// JSON, carry every required field, and pass the executor's own validation (the TaskInfo checks, the
// container spec, the checks, the hardened operator policy), so that a copied example runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseTaskInfo } from '../../src/agent/task-file.js';
import { TaskChecks } from '../../src/checks/task-checks.js';
import { parseFlags } from '../../src/config/flags.js';
import { parsePolicy, POLICY_FLAGS } from '../../src/config/policy-flags.js';
import { policyViolation } from '../../src/docker/container-policy.js';
import { containerSpec } from '../../src/docker/container-spec.js';
import { taskProblem } from '../../src/executor/task-validation.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { missingRequiredFields } from '../../src/protocol/mesos-json.js';

const SANDBOX = '/var/lib/mesos/slaves/a1/frameworks/f1/executors/web-7f3c2a/runs/c1';
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string; version: string; files: string[];
};

// The hardened recipe of docs/operator-policy.md.
const HARDENED = parsePolicy(parseFlags([
  '--allow_privileged=false',
  '--allowed_host_paths=/srv/shared-data',
  '--allowed_capabilities=',
  '--allow_devices=false',
  '--allowed_docker_parameters=env,label,user,workdir,entrypoint,memory,cpu-shares,ulimit,read-only,tmpfs,shm-size,stop-signal,init,hostname,add-host,log-opt',
], POLICY_FLAGS));

function example(name: string): mesos.v1.TaskInfo {
  const text = readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8');
  // The agent id a framework takes from its offer is in the file; this one must not be used.
  return parseTaskInfo(text, 'not-the-example-agent', name);
}

function assertRunsUnderTheExecutor(task: mesos.v1.TaskInfo): void {
  assert.equal(task.agent_id?.value, '3a8b1f0e-6c2d-4e7a-9b15-2f4d8c6e1a90-S2');
  assert.deepEqual(missingRequiredFields('mesos.v1.TaskInfo', task), []);
  assert.equal(taskProblem(task), undefined);
  const spec = containerSpec(task, {
    containerName: 'mesos-c1',
    sandboxDirectory: SANDBOX,
    mappedDirectory: '/mnt/mesos/sandbox',
    taskEnvironment: {},
    cgroupsEnableCfs: false,
    labels: {},
  });
  assert.equal(spec.image, 'nginx:1.25-alpine');
  assert.deepEqual(spec.body.HostConfig?.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '31080' }] });
  assert.doesNotThrow(() => new TaskChecks(task));
  assert.equal(policyViolation(task, spec.body, HARDENED, SANDBOX), undefined);
}

test('examples/docker-task.json (the Docker containerizer drop-in) is a command task the executor runs', () => {
  const task = example('docker-task.json');
  assert.equal(task.executor, null, 'the agent generates the ExecutorInfo of a command task');
  assertRunsUnderTheExecutor(task);
});

test('examples/custom-executor-task.json (the Mesos containerizer recipe) runs the shim of the released tarball', () => {
  const task = example('custom-executor-task.json');
  assertRunsUnderTheExecutor(task);
  const executor = task.executor!;
  assert.equal(executor.type, mesos.v1.ExecutorInfo.Type.CUSTOM);
  assert.equal(executor.container, null, 'no ContainerInfo: the Mesos containerizer runs it on the host filesystem');
  const command = executor.command!;
  assert.equal(command.user, 'root', 'the executor needs the Docker socket and its root-only state directory');

  // The URI is the tarball npm pack writes, extracted into the sandbox (package/...).
  const uris = command.uris ?? [];
  assert.equal(uris.length, 1);
  const uri = uris[0]!;
  assert.ok(uri.value.endsWith(`/${pkg.name}-${pkg.version}.tgz`), `${uri.value} names the tarball of ${pkg.name}@${pkg.version}`);
  assert.equal(uri.extract, true);
  assert.notEqual(uri.executable, true, 'an executable URI is never extracted');

  // The command runs the shim from the extracted package, a file the tarball holds.
  const shim = /"\$MESOS_DIRECTORY\/package\/([^"]+)"/.exec(command.value ?? '')?.[1];
  assert.equal(shim, 'dist/mesos-docker-executor');
  assert.ok(pkg.files.includes(shim), `package.json files lists ${shim}`);
  assert.match(command.value ?? '', /^exec /, 'exec: the pid the agent watches is the executor\'s');

  // As the agent does for the executor it generates (spec 3.3): the kill grace plus 2 seconds.
  const killGrace = Number(task.kill_policy?.grace_period?.nanoseconds);
  assert.ok(Number(executor.shutdown_grace_period?.nanoseconds) >= killGrace + 2e9);
});
