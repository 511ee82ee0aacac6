import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerParameters, SUPPORTED_PARAMETERS, type ParameterSettings } from '../../src/docker/docker-parameters.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { invalidTask } from '../helpers/invalid-task.js';

type Pair = [key: string, value: string];

function settings(...pairs: Pair[]): ParameterSettings {
  return dockerParameters(pairs.map(([key, value]) => ({ key, value })));
}

const MB = 1024 * 1024;

test('each HostConfig parameter lands on its own field', () => {
  const cases: Array<[Pair[], Record<string, unknown>]> = [
    [[['add-host', 'db.local:10.0.0.5'], ['add-host', 'v6:fe80::1'], ['add-host', 'gw:host-gateway']], { ExtraHosts: ['db.local:10.0.0.5', 'v6:fe80::1', 'gw:host-gateway'] }],
    [[['blkio-weight', '500']], { BlkioWeight: 500 }],
    [[['blkio-weight', '0']], { BlkioWeight: 0 }],
    [[['cap-add', 'NET_ADMIN'], ['cap-add', 'SYS_PTRACE']], { CapAdd: ['NET_ADMIN', 'SYS_PTRACE'] }],
    [[['cap-drop', 'ALL'], ['cap-drop', 'CAP_CHOWN']], { CapDrop: ['ALL', 'CAP_CHOWN'] }],
    [[['cpu-period', '50000']], { CpuPeriod: 50_000 }],
    [[['cpu-quota', '25000']], { CpuQuota: 25_000 }],
    [[['cpu-quota', '-1']], { CpuQuota: -1 }],
    [[['cpu-shares', '512']], { CpuShares: 512 }],
    [[['cpuset-cpus', '0-2,5']], { CpusetCpus: '0-2,5' }],
    [[['cpuset-mems', '0,1']], { CpusetMems: '0,1' }],
    [[['device', '/dev/fuse']], { Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }] }],
    [[['device', '/dev/sda:/dev/xvda']], { Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'rwm' }] }],
    [[['device', '/dev/sda:r']], { Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'r' }] }],
    [[['device', '/dev/sda:/dev/xvda:rw']], { Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'rw' }] }],
    [[['dns', '10.0.0.2'], ['dns', '2001:db8::1']], { Dns: ['10.0.0.2', '2001:db8::1'] }],
    [[['dns-search', 'example.com'], ['dns-search', '.']], { DnsSearch: ['example.com', '.'] }],
    [[['dns-opt', 'ndots:2'], ['dns-option', 'timeout:3']], { DnsOptions: ['ndots:2', 'timeout:3'] }],
    [[['group-add', 'audio'], ['group-add', '1001']], { GroupAdd: ['audio', '1001'] }],
    [[['init', 'true']], { Init: true }],
    [[['ipc', 'host']], { IpcMode: 'host' }],
    [[['ipc', 'container:other']], { IpcMode: 'container:other' }],
    [[['log-driver', 'json-file'], ['log-opt', 'max-size=10m'], ['log-opt', 'max-file=3']], { LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } } }],
    [[['log-opt', 'tag={{.Name}}'], ['log-driver', 'local']], { LogConfig: { Type: 'local', Config: { tag: '{{.Name}}' } } }],
    [[['memory', '512m']], { Memory: 512 * MB }],
    [[['memory-reservation', '256m']], { MemoryReservation: 256 * MB }],
    [[['memory-swap', '1g']], { MemorySwap: 1024 * MB }],
    [[['memory-swap', '-1']], { MemorySwap: -1 }],
    [[['memory-swappiness', '0']], { MemorySwappiness: 0 }],
    [[['oom-kill-disable', 'true']], { OomKillDisable: true }],
    [[['oom-score-adj', '-500']], { OomScoreAdj: -500 }],
    [[['pid', 'host']], { PidMode: 'host' }],
    [[['pids-limit', '100']], { PidsLimit: 100 }],
    [[['privileged', 'true']], { Privileged: true }],
    [[['privileged', 'false']], { Privileged: false }],
    [[['read-only', 'true']], { ReadonlyRootfs: true }],
    [[['restart', 'no']], { RestartPolicy: { Name: 'no' } }],
    [[['runtime', 'runc']], { Runtime: 'runc' }],
    [[['security-opt', 'no-new-privileges'], ['security-opt', 'apparmor=unconfined'], ['security-opt', 'label:disable']], { SecurityOpt: ['no-new-privileges', 'apparmor=unconfined', 'label:disable'] }],
    [[['security-opt', 'seccomp=unconfined']], { SecurityOpt: ['seccomp=unconfined'] }],
    [[['security-opt', 'seccomp={ "defaultAction": "SCMP_ACT_ALLOW" }']], { SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] }],
    [[['security-opt', 'systempaths=unconfined']], { MaskedPaths: [], ReadonlyPaths: [] }],
    [[['shm-size', '64m']], { ShmSize: 64 * MB }],
    [[['sysctl', 'net.core.somaxconn=1024'], ['sysctl', 'kernel.msgmax=65536']], { Sysctls: { 'net.core.somaxconn': '1024', 'kernel.msgmax': '65536' } }],
    [[['tmpfs', '/run'], ['tmpfs', '/tmp:rw,noexec,size=64m']], { Tmpfs: { '/run': '', '/tmp': 'rw,noexec,size=64m' } }],
    [[['ulimit', 'nofile=1024:2048'], ['ulimit', 'nproc=64']], { Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 64, Hard: 64 }] }],
    // A repeated ulimit replaces the earlier one, as the docker CLI keeps them by name.
    [[['ulimit', 'nofile=10'], ['ulimit', 'nofile=20:30']], { Ulimits: [{ Name: 'nofile', Soft: 20, Hard: 30 }] }],
    [[['ulimit', 'core=0:-1']], { Ulimits: [{ Name: 'core', Soft: 0, Hard: -1 }] }],
    [[['userns', 'host']], { UsernsMode: 'host' }],
    [[['uts', 'host']], { UTSMode: 'host' }],
  ];
  for (const [pairs, expected] of cases) {
    assert.deepEqual(settings(...pairs).hostConfig, expected, JSON.stringify(pairs));
  }
});

test('Config parameters land on their fields; short forms are aliases', () => {
  const cases: Array<[Pair[], Record<string, unknown>]> = [
    [[['entrypoint', '/bin/echo']], { Entrypoint: ['/bin/echo'] }],
    [[['entrypoint', '']], { Entrypoint: [''] }],
    [[['hostname', 'web-1.example.com']], { Hostname: 'web-1.example.com' }],
    [[['h', 'short']], { Hostname: 'short' }],
    [[['user', 'nobody']], { User: 'nobody' }],
    [[['u', '1000:1000']], { User: '1000:1000' }],
    [[['workdir', '/srv/app']], { WorkingDir: '/srv/app' }],
    [[['w', '/tmp']], { WorkingDir: '/tmp' }],
    [[['stop-signal', 'SIGQUIT']], { StopSignal: 'SIGQUIT' }],
    [[['stop-signal', 'usr1']], { StopSignal: 'SIGUSR1' }],
    [[['stop-signal', 'RTMIN+3']], { StopSignal: 'SIGRTMIN+3' }],
    [[['stop-signal', '15']], { StopSignal: '15' }],
    [[['stop-timeout', '30']], { StopTimeout: 30 }],
    [[['mac-address', '02:42:ac:11:00:02']], { MacAddress: '02:42:ac:11:00:02' }],
    [[['health-cmd', 'curl -f http://localhost/ || exit 1'], ['health-interval', '30s'], ['health-timeout', '5s'], ['health-retries', '3'], ['health-start-period', '1m']],
      { Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 30e9, Timeout: 5e9, Retries: 3, StartPeriod: 60e9 } }],
    [[['health-interval', '1m30s']], { Healthcheck: { Interval: 90e9 } }],
    [[['no-healthcheck', 'true']], { Healthcheck: { Test: ['NONE'] } }],
    [[['no-healthcheck', 'false']], {}],
    [[['health-interval', '0']], {}],
  ];
  for (const [pairs, expected] of cases) {
    assert.deepEqual(settings(...pairs).config, expected, JSON.stringify(pairs));
  }
});

test('env, label, volume, publish, expose, network and volume-driver parameters are collected for the spec to merge', () => {
  const result = settings(
    ['env', 'A=1'],
    ['e', 'B=x=y'],
    ['env', 'A=2'],
    ['env', 'EMPTY='],
    ['label', 'team=web'],
    ['l', 'flag'],
    ['label', 'x=a=b'],
    ['volume', '/srv/data:/data:ro'],
    ['v', 'named:/named'],
    ['volume', '/anonymous'],
    ['publish', '8080:80'],
    ['p', '127.0.0.1:5353:53/udp'],
    ['expose', '9000'],
    ['net', 'bridge'],
    ['volume-driver', 'local'],
  );
  assert.deepEqual([...result.env], [['A', '2'], ['B', 'x=y'], ['EMPTY', '']]);
  assert.deepEqual([...result.labels], [['team', 'web'], ['flag', ''], ['x', 'a=b']]);
  assert.deepEqual(result.binds, ['/srv/data:/data:ro', 'named:/named']);
  assert.deepEqual(result.anonymousVolumes, ['/anonymous']);
  assert.deepEqual(result.ports, [
    ['80/tcp', { HostIp: '', HostPort: '8080' }],
    ['53/udp', { HostIp: '127.0.0.1', HostPort: '5353' }],
    ['9000/tcp', undefined],
  ]);
  assert.equal(result.network, 'bridge');
  assert.equal(result.volumeDriver, 'local');
  assert.equal(result.dnsGiven, false);
  assert.deepEqual(result.hostConfig, {});
  assert.deepEqual(result.config, {});
});

test('any dns, dns-search, dns-opt or dns-option parameter marks DNS as given', () => {
  for (const pair of [['dns', '1.1.1.1'], ['dns-search', 'corp'], ['dns-opt', 'ndots:1'], ['dns-option', 'ndots:1']] as Pair[]) {
    assert.equal(settings(pair).dnsGiven, true, pair[0]);
  }
  assert.equal(settings(['add-host', 'a:1.2.3.4']).dnsGiven, false);
  assert.equal(settings().dnsGiven, false);
});

test('only the first net/network parameter is taken; a second one is an error naming both', () => {
  assert.equal(settings(['network', 'my-net']).network, 'my-net');
  assert.equal(settings(['net', 'container:other']).network, 'container:other');
  assert.throws(() => settings(['net', 'a'], ['network', 'b']), invalidTask(/parameters\[1\] \(network\) is 'b' after an earlier net\/network parameter 'a'/));
  assert.throws(() => settings(['net', 'bad name']), invalidTask(/parameters\[0\] \(net\) is 'bad name': expected a network name/));
});

test("a 'name' parameter is refused with the MESOS-8497 message", () => {
  assert.throws(
    () => settings(['label', 'a=b'], ['name', 'mine']),
    invalidTask(/^container\.docker\.parameters\[1\]: Parameter in DockerInfo must not be 'name' \(MESOS-8497\)/),
  );
});

test('options that read or write host files, or that fight the executor, are refused with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['env-file', /\(env-file\) is not accepted: it reads a file on the agent host/],
    ['label-file', /\(label-file\) is not accepted: it reads a file on the agent host/],
    ['cidfile', /\(cidfile\) is not accepted: it writes a file on the agent host/],
    ['rm', /\(rm\) is not accepted: the executor removes the container itself/],
    ['detach', /supervises the container itself/],
    ['d', /supervises the container itself/],
    ['attach', /attaches to stdout and stderr itself/],
    ['interactive', /no stdin/],
    ['tty', /TTY/],
    ['t', /TTY/],
  ];
  for (const [key, pattern] of cases) assert.throws(() => settings([key, 'x']), invalidTask(pattern), key);
});

test('an unknown key is an error naming it and listing the supported ones', () => {
  for (const key of ['privileged ', '--privileged', 'mount', 'cgroup-parent', 'Memory', '', 'toString', '__proto__']) {
    assert.throws(
      () => settings([key, 'x']),
      invalidTask(new RegExp(`^container\\.docker\\.parameters\\[0\\] has key '${key.replace(/[-[\]\\^$.*+?()|{}]/g, '\\$&')}', which is not a supported docker run option: expected one of add-host, blkio-weight, `)),
      key,
    );
  }
  assert.ok(SUPPORTED_PARAMETERS.includes('workdir') && SUPPORTED_PARAMETERS.includes('v') && !SUPPORTED_PARAMETERS.includes('name'));
});

test('a value that does not parse is an error naming the key, the value and what was expected', () => {
  const cases: Array<[Pair, RegExp]> = [
    [['add-host', 'nohost'], /\(add-host\) is 'nohost': expected host:ip/],
    [['add-host', 'h:not-an-ip'], /\(add-host\) is 'h:not-an-ip'/],
    [['add-host', ':1.2.3.4'], /\(add-host\) is ':1\.2\.3\.4'/],
    [['blkio-weight', '5'], /\(blkio-weight\) is '5': expected a weight from 10 to 1000, or 0/],
    [['blkio-weight', '2000'], /\(blkio-weight\) is '2000'/],
    [['cap-add', 'NET ADMIN'], /\(cap-add\) is 'NET ADMIN': expected a capability name/],
    [['cpu-period', '10'], /\(cpu-period\) is '10': expected microseconds from 1000 to 1000000/],
    [['cpu-quota', '500'], /\(cpu-quota\) is '500': expected microseconds, at least 1000, or -1/],
    [['cpu-shares', 'lots'], /\(cpu-shares\) is 'lots'/],
    [['cpuset-cpus', '0-'], /\(cpuset-cpus\) is '0-': expected CPU numbers like 0-3,7/],
    [['device', 'dev/sda'], /\(device\) is 'dev\/sda': expected an absolute path/],
    [['device', '/dev/sda:/dev/xvda:rwx'], /\(device\) is '\/dev\/sda:\/dev\/xvda:rwx': expected permissions made of r, w and m/],
    [['device', '/a:/b:r:w'], /\(device\) is '\/a:\/b:r:w'/],
    [['dns', 'dns.google'], /\(dns\) is 'dns\.google': expected the IP address of a name server/],
    [['dns-search', 'a b'], /\(dns-search\) is 'a b'/],
    [['dns-opt', 'ndots:2\nnameserver 6.6.6.6'], /\(dns-opt\) is 'ndots:2\nnameserver 6\.6\.6\.6': expected a resolv\.conf option without spaces/],
    [['env', 'JUST_A_NAME'], /\(env\) is 'JUST_A_NAME': expected NAME=value \(a bare NAME would copy the executor's own variable\)/],
    [['env', '=value'], /\(env\) is '=value'/],
    [['health-cmd', ' '], /\(health-cmd\) is ' ': expected a shell command/],
    [['health-interval', '30'], /\(health-interval\) is '30': expected a duration of at least 1ms, like 30s/],
    [['health-timeout', '-1s'], /\(health-timeout\) is '-1s'/],
    [['health-start-period', '10us'], /\(health-start-period\) is '10us'/],
    [['health-retries', '-1'], /\(health-retries\) is '-1'/],
    [['hostname', 'under_score'], /\(hostname\) is 'under_score': expected a host name/],
    [['hostname', 'a'.repeat(65)], /\(hostname\) is 'a{65}'/],
    [['init', 'yes'], /\(init\) is 'yes': expected true or false/],
    [['ipc', 'bogus'], /\(ipc\) is 'bogus': expected none, private, shareable, host or container:<name>/],
    [['label', '=v'], /\(label\) is '=v': expected key=value or key/],
    [['log-driver', 'json file'], /\(log-driver\) is 'json file'/],
    [['log-opt', 'max-size'], /\(log-opt\) is 'max-size': expected key=value/],
    [['mac-address', '02:42:ac:11:00'], /\(mac-address\) is '02:42:ac:11:00'/],
    [['memory', '512q'], /\(memory\) is '512q': expected a size like 512m or 1g$/],
    [['memory', ''], /\(memory\) is '': expected a size/],
    [['memory-reservation', '-1'], /\(memory-reservation\) is '-1'/],
    [['memory-swap', 'lots'], /\(memory-swap\) is 'lots': expected a size like 512m or 1g, or -1 for unlimited swap/],
    [['memory-swappiness', '101'], /\(memory-swappiness\) is '101': expected a number from 0 to 100/],
    [['oom-kill-disable', ''], /\(oom-kill-disable\) is '': expected true or false/],
    [['oom-score-adj', '1001'], /\(oom-score-adj\) is '1001': expected a number from -1000 to 1000/],
    [['pid', 'private'], /\(pid\) is 'private': expected host or container:<name>/],
    [['pids-limit', '-2'], /\(pids-limit\) is '-2'/],
    [['privileged', 'True '], /\(privileged\) is 'True ': expected true or false/],
    [['publish', '80:80:80:80'], /\(publish\) is '80:80:80:80': expected \[ip:\]\[hostPort:\]containerPort/],
    [['publish', '70000'], /\(publish\) is '70000': '70000' is not a port or port range/],
    [['publish', '80/icmp'], /\(publish\) is '80\/icmp': expected the protocol to be one of tcp, udp, sctp/],
    [['expose', 'http'], /\(expose\) is 'http'/],
    [['read-only', 'maybe'], /\(read-only\) is 'maybe'/],
    [['restart', 'always'], /\(restart\) is 'always': expected 'no': the executor supervises the container/],
    [['restart', 'on-failure:3'], /\(restart\) is 'on-failure:3'/],
    [['runtime', '../runc'], /\(runtime\) is '\.\.\/runc'/],
    [['security-opt', 'seccomp=/etc/profile.json'], /\(security-opt\) is 'seccomp=\/etc\/profile\.json': expected seccomp=unconfined or seccomp=<profile JSON>; a profile file on the agent host is not read/],
    [['security-opt', 'seccomp=42'], /expected seccomp=<profile JSON object>/],
    [['security-opt', 'privileged=true'], /\(security-opt\) is 'privileged=true': expected one of apparmor=/],
    [['security-opt', 'apparmor'], /\(security-opt\) is 'apparmor'/],
    [['security-opt', 'systempaths=confined'], /expected systempaths=unconfined/],
    [['security-opt', 'no-new-privileges=maybe'], /\(security-opt\) is 'no-new-privileges=maybe'/],
    [['shm-size', '64 megs'], /\(shm-size\) is '64 megs'/],
    [['stop-signal', 'SIGFOO'], /\(stop-signal\) is 'SIGFOO': expected a signal name like SIGTERM/],
    [['stop-signal', '65'], /\(stop-signal\) is '65': expected a signal number from 1 to 64/],
    [['stop-timeout', '1.5'], /\(stop-timeout\) is '1\.5': expected a number of seconds/],
    [['sysctl', 'net.core.somaxconn'], /\(sysctl\) is 'net\.core\.somaxconn': expected name=value/],
    [['sysctl', 'a b=1'], /\(sysctl\) is 'a b=1'/],
    [['tmpfs', 'run'], /\(tmpfs\) is 'run': expected an absolute path/],
    [['tmpfs', '/'], /\(tmpfs\) is '\/': nothing can be mounted over the container's root directory/],
    [['tmpfs', '/run:size=64m size=1g'], /\(tmpfs\) is 'size=64m size=1g': expected path\[:options\]/],
    [['ulimit', 'nofile'], /\(ulimit\) is 'nofile': expected name=soft\[:hard\] with name one of as, core/],
    [['ulimit', 'files=10'], /\(ulimit\) is 'files=10'/],
    [['ulimit', 'nofile=10:20:30'], /\(ulimit\) is 'nofile=10:20:30'/],
    [['ulimit', 'nofile=many'], /\(ulimit\) is 'nofile=many'/],
    [['ulimit', 'nofile=20:10'], /\(ulimit\) is 'nofile=20:10': expected a soft limit no greater than the hard limit/],
    [['user', 'root:root:root'], /\(user\) is 'root:root:root': expected user\[:group\]/],
    [['user', ''], /\(user\) is ''/],
    [['userns', 'private'], /\(userns\) is 'private': expected 'host'/],
    [['uts', 'container:x'], /\(uts\) is 'container:x'/],
    [['volume', './relative:/data'], /\(volume\) is '\.\/relative': expected a volume name/],
    [['volume', '/a:/b:/c:ro'], /\(volume\) is '\/a:\/b:\/c:ro': expected \[source:\]target\[:options\]/],
    [['volume', '/a:data'], /\(volume\) is 'data': expected an absolute path/],
    [['volume', '/a:/b:rw,ro'], /\(volume\) is '\/a:\/b:rw,ro': ro and rw exclude each other/],
    [['volume', '/a:/b:exec'], /\(volume\) is '\/a:\/b:exec': unknown mount option 'exec'/],
    [['volume', '/a:/'], /\(volume\) is '\/': nothing can be mounted over the container's root directory/],
    [['volume-driver', '-x'], /\(volume-driver\) is '-x'/],
    [['workdir', 'relative'], /\(workdir\) is 'relative': expected an absolute path/],
    [['label', 'a\0b'], /\(label\) contains a NUL byte/],
  ];
  for (const [pair, pattern] of cases) assert.throws(() => settings(pair), invalidTask(pattern), JSON.stringify(pair));
});

test('no-healthcheck together with a health option is an error', () => {
  assert.throws(() => settings(['no-healthcheck', 'true'], ['health-cmd', 'true']), invalidTask(/no-healthcheck=true conflicts with the health-\* parameters/));
  assert.deepEqual(settings(['no-healthcheck', 'false'], ['health-cmd', 'true']).config, { Healthcheck: { Test: ['CMD-SHELL', 'true'] } });
});

test('parameters decoded by the generated class are read the same way', () => {
  const docker = mesos.v1.ContainerInfo.DockerInfo.fromObject({
    image: 'busybox',
    parameters: [{ key: 'memory', value: '64m' }, { key: 'label', value: 'a=b' }],
  });
  const result = dockerParameters(docker.parameters);
  assert.equal(result.hostConfig.Memory, 64 * MB);
  assert.deepEqual([...result.labels], [['a', 'b']]);
  assert.deepEqual(dockerParameters(mesos.v1.ContainerInfo.DockerInfo.fromObject({ image: 'b' }).parameters).hostConfig, {});
});

test('a parameter without a value reads as an empty value', () => {
  assert.deepEqual(dockerParameters([{ key: 'entrypoint' } as mesos.v1.IParameter]).config, { Entrypoint: [''] });
  assert.throws(() => dockerParameters([{ key: 'privileged' } as mesos.v1.IParameter]), invalidTask(/\(privileged\) is '': expected true or false/));
});

test("map-like values keep keys such as '__proto__' as ordinary entries", () => {
  const result = settings(['log-opt', '__proto__=x'], ['sysctl', '__proto__=1']);
  assert.equal(Object.hasOwn(result.hostConfig.LogConfig!.Config, '__proto__'), true);
  assert.equal(JSON.stringify(result.hostConfig.LogConfig), '{"Type":"","Config":{"__proto__":"x"}}');
  assert.equal(JSON.stringify(result.hostConfig.Sysctls), '{"__proto__":"1"}');
});
