// The operator policy flags and the check a task's container must pass: every route by which a
// TaskInfo reaches a guarded field of the create request, allowed and refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error.js';
import { parseFlags } from '../../src/config/flags.js';
import { parsePolicy, PERMISSIVE_POLICY, POLICY_FLAGS, type ContainerPolicy } from '../../src/config/policy-flags.js';
import { containerSpec } from '../../src/docker/container-spec.js';
import { policyViolation } from '../../src/docker/container-policy.js';
import { realHostPath } from '../../src/docker/real-host-path.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const SANDBOX = '/var/lib/mesos/slaves/a1/frameworks/f1/executors/t1/runs/c1';

function policy(...argv: string[]): ContainerPolicy {
  return parsePolicy(parseFlags(argv, POLICY_FLAGS));
}

type Docker = mesos.v1.ContainerInfo.IDockerInfo;

function task(docker: Partial<Docker> = {}, volumes: mesos.v1.IVolume[] = []): mesos.v1.ITaskInfo {
  return {
    name: 'task',
    task_id: { value: 't1' },
    agent_id: { value: 'a1' },
    command: { shell: true, value: 'true' },
    container: { type: mesos.v1.ContainerInfo.Type.DOCKER, docker: { image: 'busybox:latest', ...docker }, volumes },
  };
}

function params(...pairs: string[]): Partial<Docker> {
  return { parameters: pairs.map((pair) => ({ key: pair.slice(0, pair.indexOf('=')), value: pair.slice(pair.indexOf('=') + 1) })) };
}

function hostVolume(hostPath: string, containerPath = '/data'): mesos.v1.IVolume {
  return { host_path: hostPath, container_path: containerPath, mode: mesos.v1.Volume.Mode.RW };
}

function check(t: mesos.v1.ITaskInfo, p: ContainerPolicy, resolve?: (path: string) => string | undefined): string | undefined {
  const spec = containerSpec(t, { containerName: 'mesos-c1', sandboxDirectory: SANDBOX, mappedDirectory: '/mnt/mesos/sandbox', taskEnvironment: {}, cgroupsEnableCfs: false, labels: {} });
  return policyViolation(t, spec.body, p, SANDBOX, resolve);
}

test('flags parse into a policy; no flags (or *) is the stock parity', () => {
  assert.deepEqual(policy(), PERMISSIVE_POLICY);
  assert.deepEqual(policy('--allowed_host_paths=*', '--allowed_capabilities=*', '--allowed_docker_parameters=*'), PERMISSIVE_POLICY);
  const hardened = policy(
    '--allow_privileged=false',
    '--allowed_host_paths=/srv/data/, /opt//shared/../pub',
    '--allowed_capabilities=cap_net_admin,SYS_TIME',
    '--allow_devices=false',
    '--allowed_docker_parameters=env,v,label',
  );
  assert.equal(hardened.allowPrivileged, false);
  assert.deepEqual(hardened.allowedHostPaths, ['/srv/data', '/opt/pub']);
  assert.deepEqual([...hardened.allowedCapabilities!], ['NET_ADMIN', 'SYS_TIME']);
  assert.equal(hardened.allowDevices, false);
  assert.deepEqual([...hardened.allowedDockerParameters!], ['env', 'volume', 'label'], 'an alias names its long option');
  assert.deepEqual(policy('--allowed_capabilities=').allowedCapabilities, new Set(), 'empty allows none');
});

test('bad policy flags are ConfigErrors naming the flag and the value', () => {
  const cases: Array<[string, RegExp]> = [
    ['--allowed_host_paths=srv/data', /^Invalid --allowed_host_paths entry 'srv\/data': expected an absolute host path/],
    ['--allowed_capabilities=NET-ADMIN', /^Invalid --allowed_capabilities entry 'NET-ADMIN': expected a capability name/],
    ['--allowed_docker_parameters=env,volumes', /^Invalid --allowed_docker_parameters entry 'volumes': expected docker run options/],
    ['--allow_privileged=no', /^Invalid value 'no' for --allow_privileged: expected true or false/],
  ];
  for (const [flag, message] of cases) {
    assert.throws(() => policy(flag), (error: unknown) => error instanceof ConfigError && message.test(error.message), flag);
  }
});

test('--allow_privileged=false refuses every way to leave the container isolation', () => {
  const strict = policy('--allow_privileged=false');
  const cases: Array<[string, Partial<Docker>, RegExp | undefined]> = [
    ['DockerInfo.privileged', { privileged: true }, /^Refused by operator policy --allow_privileged=false: the task asks for a privileged container$/],
    ['privileged parameter', params('privileged=true'), /a privileged container$/],
    ['privileged=false parameter', params('privileged=false'), undefined],
    ['pid=host', params('pid=host'), /the host's PID namespace \(pid=host\)$/],
    ['ipc=host', params('ipc=host'), /the host's IPC namespace \(ipc=host\)$/],
    ['uts=host', params('uts=host'), /UTS namespace/],
    ['userns=host', params('userns=host'), /user namespace/],
    ['ipc=private', params('ipc=private'), undefined],
    ['seccomp=unconfined', params('security-opt=seccomp=unconfined'), /seccomp=unconfined\)$/],
    ['seccomp profile', params('security-opt=seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'), /replaces the seccomp profile \(security-opt seccomp=<profile>\)$/],
    ['apparmor:unconfined', params('security-opt=apparmor:unconfined'), /AppArmor off/],
    ['label=disable', params('security-opt=label=disable'), /SELinux labelling off/],
    ['systempaths=unconfined', params('security-opt=systempaths=unconfined'), /unmasks \/proc and \/sys/],
    ['no-new-privileges', params('security-opt=no-new-privileges'), undefined],
    ['apparmor profile', params('security-opt=apparmor=docker-default'), undefined],
    ['host network is an ordinary Mesos mode', { network: mesos.v1.ContainerInfo.DockerInfo.Network.HOST }, undefined],
  ];
  for (const [name, docker, expected] of cases) {
    const refusal = check(task(docker), strict);
    if (expected) assert.match(refusal ?? '', expected, name);
    else assert.equal(refusal, undefined, name);
    assert.equal(check(task(docker), PERMISSIVE_POLICY), undefined, `${name} passes the default policy`);
  }
});

test('--allowed_host_paths matches whole path components, normalised; the sandbox is always allowed', () => {
  const strict = policy('--allowed_host_paths=/srv/data/,/opt/pub');
  const refusedAs = (path: string) => `Refused by operator policy --allowed_host_paths=/srv/data,/opt/pub: volume host path '${path}' is outside the allowed prefixes`;
  const cases: Array<[string, mesos.v1.ITaskInfo, string | undefined]> = [
    ['exact prefix', task({}, [hostVolume('/srv/data')]), undefined],
    ['below a prefix', task({}, [hostVolume('/srv/data/a/b')]), undefined],
    ['trailing slash', task({}, [hostVolume('/srv/data/')]), undefined],
    ['a sibling sharing the prefix text', task({}, [hostVolume('/srv/database')]), refusedAs('/srv/database')],
    ['the parent', task({}, [hostVolume('/srv')]), refusedAs('/srv')],
    ['.. out of a prefix', task({}, [hostVolume('/srv/data/../../etc')]), refusedAs('/etc')],
    ['.. that stays inside', task({}, [hostVolume('/srv/data/x/../y')]), undefined],
    ['second prefix', task({}, [hostVolume('/opt/pub/z')]), undefined],
    ['/etc', task({}, [hostVolume('/etc')]), refusedAs('/etc')],
    ['relative host path: in the sandbox', task({}, [hostVolume('cache')]), undefined],
    ['absolute path into the sandbox', task({}, [hostVolume(`${SANDBOX}/cache`)]), undefined],
    ['volume parameter', task(params('volume=/etc:/host-etc:ro')), refusedAs('/etc')],
    ['v alias with ..', task(params('v=/srv/data/../secrets:/s')), refusedAs('/srv/secrets')],
    ['volume parameter inside', task(params('v=/srv/data/x:/x')), undefined],
    ['named volume', task(params('volume=cache:/cache')), undefined],
    ['anonymous volume', task(params('volume=/scratch')), undefined],
  ];
  for (const [name, t, expected] of cases) {
    assert.equal(check(t, strict), expected, name);
  }
  assert.equal(check(task({}, [hostVolume('/etc')]), PERMISSIVE_POLICY), undefined);
  assert.equal(check(task({}, [hostVolume('/etc')]), policy('--allowed_host_paths=/')), undefined, '/ allows every path');
  assert.match(check(task({}, [hostVolume('/srv/data')]), policy('--allowed_host_paths=')) ?? '', /^Refused by operator policy --allowed_host_paths=: volume host path '\/srv\/data'/);
});

test('--allowed_host_paths judges a bind source by where its symbolic links lead', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'policy-')));
  const sandbox = join(root, 'sandbox');
  const data = join(root, 'data');
  mkdirSync(sandbox);
  mkdirSync(data);
  // A fetched archive can hold a link; so can a shared directory under an allowed prefix.
  symlinkSync('/etc', join(sandbox, 'etc-link'));
  symlinkSync('/etc', join(data, 'escape'));
  symlinkSync(join(root, 'nowhere'), join(sandbox, 'dangling'));
  const strict = policy(`--allowed_host_paths=${data}`);
  const run = (volume: mesos.v1.IVolume) => {
    const t = task({}, [volume]);
    const spec = containerSpec(t, { containerName: 'c', sandboxDirectory: sandbox, mappedDirectory: '/mnt/mesos/sandbox', taskEnvironment: {}, cgroupsEnableCfs: false, labels: {} });
    return policyViolation(t, spec.body, strict, sandbox, realHostPath);
  };
  assert.equal(run(hostVolume('cache')), undefined, 'a missing directory in the sandbox (Docker creates it)');
  assert.equal(run(hostVolume(`${data}/new/dir`)), undefined, 'a missing directory under a prefix');
  assert.match(run(hostVolume('etc-link')) ?? '', new RegExp(`volume host path '${sandbox}/etc-link' \\(which resolves to '/etc'\\) is outside the allowed prefixes$`));
  assert.match(run(hostVolume('etc-link/ssl')) ?? '', /resolves to '\/etc\/ssl'/);
  assert.match(run(hostVolume(`${data}/escape`)) ?? '', /resolves to '\/etc'/);
  assert.match(run(hostVolume('dangling')) ?? '', /cannot be resolved \(a dangling or looping symbolic link\)$/);
});

test('--allowed_capabilities covers cap-add, by Docker name with or without CAP_', () => {
  const strict = policy('--allowed_capabilities=NET_ADMIN');
  const cases: Array<[string, Partial<Docker>, string | undefined]> = [
    ['allowed', params('cap-add=NET_ADMIN'), undefined],
    ['allowed, CAP_ and lower case', params('cap-add=cap_net_admin'), undefined],
    ['another', params('cap-add=NET_ADMIN', 'cap-add=SYS_ADMIN'), 'Refused by operator policy --allowed_capabilities=NET_ADMIN: the task adds the capability SYS_ADMIN (cap-add)'],
    ['ALL', params('cap-add=ALL'), 'Refused by operator policy --allowed_capabilities=NET_ADMIN: the task adds the capability ALL (cap-add)'],
    ['dropping is always fine', params('cap-drop=ALL'), undefined],
  ];
  for (const [name, docker, expected] of cases) assert.equal(check(task(docker), strict), expected, name);
  assert.match(check(task(params('cap-add=CHOWN')), policy('--allowed_capabilities=')) ?? '', /--allowed_capabilities=: the task adds the capability CHOWN/);
  assert.equal(check(task(params('cap-add=ALL')), policy('--allowed_capabilities=all')), undefined);
});

test('--allow_devices=false refuses device parameters', () => {
  const strict = policy('--allow_devices=false');
  assert.equal(check(task(params('device=/dev/fuse')), strict), "Refused by operator policy --allow_devices=false: the task maps the host device '/dev/fuse' (device)");
  assert.equal(check(task(), strict), undefined);
  assert.equal(check(task(params('device=/dev/fuse')), PERMISSIVE_POLICY), undefined);
});

test('--allowed_docker_parameters names the options a task may give; aliases follow their option', () => {
  const strict = policy('--allowed_docker_parameters=env,volume');
  const cases: Array<[string, Partial<Docker>, string | undefined]> = [
    ['allowed', params('env=A=1', 'volume=/scratch'), undefined],
    ['alias of an allowed option', params('e=A=1', 'v=/scratch'), undefined],
    ['another option', params('env=A=1', 'label=a=b'), "Refused by operator policy --allowed_docker_parameters=env,volume: the task gives the docker parameter 'label'"],
    ['an alias of another option', params('l=a=b'), "Refused by operator policy --allowed_docker_parameters=env,volume: the task gives the docker parameter 'l'"],
    ['none', {}, undefined],
  ];
  for (const [name, docker, expected] of cases) assert.equal(check(task(docker), strict), expected, name);
  assert.match(check(task(params('env=A=1')), policy('--allowed_docker_parameters=')) ?? '', /--allowed_docker_parameters=: the task gives the docker parameter 'env'$/);
});
