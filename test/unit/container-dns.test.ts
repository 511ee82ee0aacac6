import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerDnsError, defaultDns, parseContainerDns } from '../../src/docker/container-dns.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { HOST, BRIDGE, NONE, USER } = mesos.v1.ContainerInfo.DockerInfo.Network;

const FLAG = {
  docker: [
    { network_mode: 'BRIDGE', dns: { nameservers: ['8.8.8.8'], search: ['bridge.example'], options: ['timeout:3'] } },
    { network_mode: 'USER', network_name: 'net-a', dns: { nameservers: ['10.0.0.1', '2001:db8::53'] } },
    { network_mode: 'USER', dns: { nameservers: ['10.0.0.99'], search: ['default.example'], options: ['ndots:2', 'attempts:2'] } },
  ],
};

test('the entry is chosen by DockerInfo.network: BRIDGE entry, named USER entry, else the USER default; nothing for HOST or NONE', () => {
  const dns = parseContainerDns(FLAG);
  const cases: Array<[number, string, unknown]> = [
    [BRIDGE, 'bridge', { nameservers: ['8.8.8.8'], search: ['bridge.example'], options: ['timeout:3'] }],
    // The BRIDGE entry follows DockerInfo.network even when a net parameter changed the final network.
    [BRIDGE, 'net-a', { nameservers: ['8.8.8.8'], search: ['bridge.example'], options: ['timeout:3'] }],
    [USER, 'net-a', { nameservers: ['10.0.0.1', '2001:db8::53'], search: [], options: [] }],
    [USER, 'net-b', { nameservers: ['10.0.0.99'], search: ['default.example'], options: ['ndots:2', 'attempts:2'] }],
    [HOST, 'host', undefined],
    [NONE, 'none', undefined],
  ];
  for (const [network, name, expected] of cases) assert.deepEqual(defaultDns(dns, network, name), expected, `${network} ${name}`);
});

test('missing entries mean no default DNS', () => {
  const userOnly = parseContainerDns({ docker: [{ network_mode: 'USER', network_name: 'only', dns: { nameservers: ['1.1.1.1'] } }] });
  assert.equal(defaultDns(userOnly, BRIDGE, 'bridge'), undefined);
  assert.equal(defaultDns(userOnly, USER, 'other'), undefined);
  assert.deepEqual(defaultDns(userOnly, USER, 'only')?.nameservers, ['1.1.1.1']);
  assert.equal(defaultDns(parseContainerDns({}), BRIDGE, 'bridge'), undefined);
  assert.equal(defaultDns(parseContainerDns({ docker: [], mesos: [] }), BRIDGE, 'bridge'), undefined);
  assert.equal(parseContainerDns(undefined), undefined);
  assert.equal(parseContainerDns(null), undefined);
  assert.equal(defaultDns(undefined, BRIDGE, 'bridge'), undefined);
});

test('the flag may also be given as its JSON text', () => {
  const dns = parseContainerDns(JSON.stringify(FLAG));
  assert.deepEqual(defaultDns(dns, BRIDGE, 'bridge')?.nameservers, ['8.8.8.8']);
});

test('a malformed flag is an error naming the flag, the field and what was expected', () => {
  const entry = (fields: Record<string, unknown>) => ({ docker: [{ network_mode: 'BRIDGE', dns: { nameservers: ['8.8.8.8'] }, ...fields }] });
  const cases: Array<[unknown, RegExp]> = [
    ['{not json', /^--default_container_dns is not valid JSON/],
    [[], /^--default_container_dns is \[\]: expected a JSON object$/],
    ['"text"', /^--default_container_dns is "text": expected a JSON object$/],
    [{ dockers: [] }, /--default_container_dns has an unknown field 'dockers'/],
    [{ docker: {} }, /--default_container_dns\.docker must be an array/],
    [{ mesos: 'x' }, /--default_container_dns\.mesos must be an array/],
    [{ docker: ['BRIDGE'] }, /--default_container_dns\.docker\[0\] is "BRIDGE": expected a JSON object/],
    [entry({ network_mode: 'HOST' }), /docker\[0\]\.network_mode is HOST: default DNS cannot be set for the host network/],
    [entry({ network_mode: 'bridge' }), /docker\[0\]\.network_mode is "bridge": expected "BRIDGE" or "USER"/],
    [entry({ network_mode: undefined }), /docker\[0\]\.network_mode is undefined/],
    [entry({ network_mode: 2 }), /docker\[0\]\.network_mode is 2/],
    [entry({ network_name: 'x' }), /docker\[0\] is BRIDGE with network_name 'x': only USER entries name a network/],
    [entry({ network_mode: 'USER', network_name: '' }), /docker\[0\]\.network_name is "": expected a non-empty network name/],
    [entry({ dns: undefined }), /docker\[0\]\.dns is missing/],
    [entry({ dns: { nameservers: '8.8.8.8' } }), /docker\[0\]\.dns\.nameservers is "8\.8\.8\.8": expected an array of strings/],
    [entry({ dns: { nameservers: ['dns.google'] } }), /docker\[0\]\.dns\.nameservers\[0\] is 'dns\.google': expected an IP address/],
    [entry({ dns: { search: ['a b'] } }), /docker\[0\]\.dns\.search\[0\] is "a b": expected a word without spaces/],
    [entry({ dns: { options: ['ndots:1\nnameserver 6.6.6.6'] } }), /docker\[0\]\.dns\.options\[0\]/],
    [entry({ dns: { nameserver: ['8.8.8.8'] } }), /docker\[0\]\.dns has an unknown field 'nameserver'/],
    [entry({ extra: 1 }), /docker\[0\] has an unknown field 'extra'/],
    [{ docker: [{ network_mode: 'BRIDGE', dns: {} }, { network_mode: 'BRIDGE', dns: {} }] }, /docker\[1\] is a second BRIDGE entry/],
    [{ docker: [{ network_mode: 'USER', dns: {} }, { network_mode: 'USER', dns: {} }] }, /docker\[1\] is a second USER entry without network_name/],
    [{ docker: [{ network_mode: 'USER', network_name: 'n', dns: {} }, { network_mode: 'USER', network_name: 'n', dns: {} }] }, /docker\[1\] is a second USER entry for network 'n'/],
  ];
  for (const [value, pattern] of cases) {
    assert.throws(() => parseContainerDns(value), (err: unknown) => {
      assert.ok(err instanceof ContainerDnsError, String(err));
      assert.equal(err.code, 'ERR_CONTAINER_DNS');
      assert.match(err.message, pattern);
      return true;
    }, JSON.stringify(value));
  }
});
