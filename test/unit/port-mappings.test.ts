import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerPortMappings, exposeParameter, portSettings, publishParameter } from '../../src/docker/port-mappings.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { invalidTask } from '../helpers/invalid-task.js';

function ports(...ranges: Array<[number, number]>): mesos.v1.IResource {
  return { name: 'ports', type: mesos.v1.Value.Type.RANGES, ranges: { range: ranges.map(([begin, end]) => ({ begin, end })) } };
}

const CPUS: mesos.v1.IResource = { name: 'cpus', type: mesos.v1.Value.Type.SCALAR, scalar: { value: 1 } };

test('port mappings bind on all interfaces, protocol lower-cased, tcp by default', () => {
  const entries = dockerPortMappings(
    {
      image: 'nginx',
      port_mappings: [
        { host_port: 31000, container_port: 80 },
        { host_port: 31001, container_port: 53, protocol: 'UDP' },
        { host_port: 31002, container_port: 80, protocol: 'tcp' },
        { host_port: 31500, container_port: 9, protocol: 'Sctp' },
      ],
    },
    [CPUS, ports([31000, 31002]), ports([31500, 31500])],
    'bridge',
  );
  assert.deepEqual(entries, [
    ['80/tcp', { HostIp: '', HostPort: '31000' }],
    ['53/udp', { HostIp: '', HostPort: '31001' }],
    ['80/tcp', { HostIp: '', HostPort: '31002' }],
    ['9/sctp', { HostIp: '', HostPort: '31500' }],
  ]);
  assert.deepEqual(portSettings(entries), {
    exposedPorts: { '80/tcp': {}, '53/udp': {}, '9/sctp': {} },
    portBindings: {
      '80/tcp': [{ HostIp: '', HostPort: '31000' }, { HostIp: '', HostPort: '31002' }],
      '53/udp': [{ HostIp: '', HostPort: '31001' }],
      '9/sctp': [{ HostIp: '', HostPort: '31500' }],
    },
  });
});

test('port mappings work on user networks and with decoded messages', () => {
  const docker = mesos.v1.ContainerInfo.DockerInfo.fromObject({ image: 'b', network: 'USER', port_mappings: [{ host_port: 10000, container_port: 8080 }] });
  const resources = [mesos.v1.Resource.fromObject({ name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 10000, end: 11000 }] } })];
  assert.deepEqual(dockerPortMappings(docker, resources, 'my-net'), [['8080/tcp', { HostIp: '', HostPort: '10000' }]]);
  assert.deepEqual(dockerPortMappings({ image: 'b' }, [], 'host'), [], 'no mappings, no checks');
});

test('port mapping errors are the upstream ones, naming the field and value', () => {
  const mapping = { image: 'b', port_mappings: [{ host_port: 10000, container_port: 80 }] };
  const cases: Array<[string, mesos.v1.IResource[] | undefined, RegExp]> = [
    ['host', [ports([10000, 10000])], /network mode host: Port mappings are only supported for bridge and user-defined networks/],
    ['none', [ports([10000, 10000])], /network mode none: Port mappings are only supported for bridge and user-defined networks/],
    ['bridge', undefined, /Port mappings require resources$/],
    ['bridge', [], /Port mappings require resources$/],
    ['bridge', [CPUS], /Port mappings require port resources/],
    // ROOT_DOCKER_CheckPortResource: 10000 is not in [9998-9999] or [10001-11000].
    ['bridge', [ports([9998, 9999], [10001, 11000])], /^container\.docker\.port_mappings\[0\]\.host_port: Port \[10000\] not included in resources: expected a port in \[9998-9999\], \[10001-11000\]$/],
  ];
  for (const [network, resources, pattern] of cases) {
    assert.throws(() => dockerPortMappings(mapping, resources, network), invalidTask(pattern), `${network} ${JSON.stringify(resources)}`);
  }
  assert.deepEqual(dockerPortMappings(mapping, [ports([10000, 11000])], 'bridge'), [['80/tcp', { HostIp: '', HostPort: '10000' }]]);
  assert.throws(
    () => dockerPortMappings({ image: 'b', port_mappings: [{ host_port: 10000, container_port: 0 }] }, [ports([10000, 10000])], 'bridge'),
    invalidTask(/port_mappings\[0\]\.container_port is 0: expected a port from 1 to 65535/),
  );
  assert.throws(
    () => dockerPortMappings({ image: 'b', port_mappings: [{ host_port: 10000, container_port: 80, protocol: 'icmp' }] }, [ports([10000, 10000])], 'bridge'),
    invalidTask(/port_mappings\[0\]\.protocol is 'icmp': expected the protocol to be one of tcp, udp, sctp/),
  );
});

test('publish parameters read as docker run -p does', () => {
  const cases: Array<[string, unknown]> = [
    ['80', [['80/tcp', { HostIp: '', HostPort: '' }]]],
    ['8080:80', [['80/tcp', { HostIp: '', HostPort: '8080' }]]],
    ['8080:80/UDP', [['80/udp', { HostIp: '', HostPort: '8080' }]]],
    ['127.0.0.1:8080:80', [['80/tcp', { HostIp: '127.0.0.1', HostPort: '8080' }]]],
    ['127.0.0.1::80', [['80/tcp', { HostIp: '127.0.0.1', HostPort: '' }]]],
    ['[::1]:8080:80', [['80/tcp', { HostIp: '::1', HostPort: '8080' }]]],
    ['8000-8001:80-81', [['80/tcp', { HostIp: '', HostPort: '8000' }], ['81/tcp', { HostIp: '', HostPort: '8001' }]]],
    ['8000-8009:80', [['80/tcp', { HostIp: '', HostPort: '8000-8009' }]]],
    ['80-81/udp', [['80/udp', { HostIp: '', HostPort: '' }], ['81/udp', { HostIp: '', HostPort: '' }]]],
  ];
  for (const [value, expected] of cases) assert.deepEqual(publishParameter('p', value), expected, value);
  const errors: Array<[string, RegExp]> = [
    ['', /'' is not a port/],
    ['a:80', /'a' is not a port/],
    ['1.2.3:80:80', /'1\.2\.3' is not an IP address/],
    ['8000-8002:80-81', /the host and container port ranges differ in size/],
    ['81-80', /'81-80' is not a port or port range/],
    ['[::1]:80', /expected \[ip:\]\[hostPort:\]containerPort/],
  ];
  for (const [value, pattern] of errors) assert.throws(() => publishParameter('p', value), invalidTask(pattern), value);
});

test('expose parameters add exposed ports without bindings', () => {
  assert.deepEqual(exposeParameter('e', '9000'), [['9000/tcp', undefined]]);
  assert.deepEqual(exposeParameter('e', '7000-7001/udp'), [['7000/udp', undefined], ['7001/udp', undefined]]);
  assert.deepEqual(portSettings(exposeParameter('e', '9000')), { exposedPorts: { '9000/tcp': {} }, portBindings: {} });
  assert.throws(() => exposeParameter('e', '0'), invalidTask(/'0' is not a port/));
});
