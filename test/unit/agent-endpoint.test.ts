import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentEndpoint, parseUpid } from '../../src/config/agent-endpoint.js';
import { ConfigError } from '../../src/config/config-error.js';

const CWD = '/var/lib/mesos/slaves/a1/frameworks/f1/executors/e1/runs/c1';

function configError(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_CONFIG');
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, pattern);
    return true;
  };
}

test('MESOS_SLAVE_PID gives the agent host, port and the id-prefixed executor path', () => {
  assert.deepEqual(agentEndpoint({ MESOS_SLAVE_PID: 'slave(1)@10.0.0.5:5051' }, CWD), {
    protocol: 'http:',
    host: '10.0.0.5',
    port: 5051,
    path: '/slave(1)/api/v1/executor',
    description: 'http://10.0.0.5:5051/slave(1)/api/v1/executor',
  });
});

test('the pid wins over MESOS_AGENT_ENDPOINT, like the reference library', () => {
  const endpoint = agentEndpoint({ MESOS_SLAVE_PID: 'slave(2)@10.0.0.6:5052', MESOS_AGENT_ENDPOINT: '10.0.0.5:5051' }, CWD);
  assert.equal(endpoint.host, '10.0.0.6');
  assert.equal(endpoint.port, 5052);
  assert.equal(endpoint.path, '/slave(2)/api/v1/executor');
});

test('parseUpid splits id, host and port', () => {
  const cases: Array<[string, { id: string; host: string; port: number }]> = [
    ['slave(1)@10.0.0.5:5051', { id: 'slave(1)', host: '10.0.0.5', port: 5051 }],
    ['slave(12)@127.0.0.1:1', { id: 'slave(12)', host: '127.0.0.1', port: 1 }],
    ['slave(1)@agent-3.example.com:65535', { id: 'slave(1)', host: 'agent-3.example.com', port: 65535 }],
    ['slave(1)@[::1]:5051', { id: 'slave(1)', host: '::1', port: 5051 }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseUpid(text), expected, text);
});

test('an IPv6 agent is bracketed in the description', () => {
  const endpoint = agentEndpoint({ MESOS_SLAVE_PID: 'slave(1)@[fd00::5]:5051' }, CWD);
  assert.equal(endpoint.host, 'fd00::5');
  assert.equal(endpoint.description, 'http://[fd00::5]:5051/slave(1)/api/v1/executor');
});

test('without a pid, MESOS_AGENT_ENDPOINT is used with the plain executor path', () => {
  for (const env of [{ MESOS_AGENT_ENDPOINT: '10.0.0.5:5051' }, { MESOS_SLAVE_PID: '', MESOS_AGENT_ENDPOINT: '10.0.0.5:5051' }]) {
    assert.deepEqual(agentEndpoint(env, CWD), {
      protocol: 'http:',
      host: '10.0.0.5',
      port: 5051,
      path: '/api/v1/executor',
      description: 'http://10.0.0.5:5051/api/v1/executor',
    });
  }
});

test('LIBPROCESS_SSL_ENABLED turns on https', () => {
  const cases: Array<[string | undefined, 'http:' | 'https:']> = [
    ['1', 'https:'],
    ['true', 'https:'],
    ['TRUE', 'https:'],
    ['0', 'http:'],
    ['false', 'http:'],
    ['', 'http:'],
    [undefined, 'http:'],
  ];
  for (const [ssl, protocol] of cases) {
    const env = ssl === undefined ? {} : { LIBPROCESS_SSL_ENABLED: ssl };
    const fromPid = agentEndpoint({ ...env, MESOS_SLAVE_PID: 'slave(1)@10.0.0.5:5051' }, CWD);
    assert.equal(fromPid.protocol, protocol, `LIBPROCESS_SSL_ENABLED=${ssl}`);
    assert.equal(fromPid.description, `${protocol}//10.0.0.5:5051/slave(1)/api/v1/executor`);
    const fromEndpoint = agentEndpoint({ ...env, MESOS_AGENT_ENDPOINT: '10.0.0.5:5051' }, CWD);
    assert.equal(fromEndpoint.protocol, protocol, `LIBPROCESS_SSL_ENABLED=${ssl} with MESOS_AGENT_ENDPOINT`);
  }
});

test('MESOS_DOMAIN_SOCKET gives the socket path and keeps the id-prefixed path the agent requires', () => {
  const endpoint = agentEndpoint(
    { MESOS_SLAVE_PID: 'slave(1)@10.0.0.5:5051', MESOS_DOMAIN_SOCKET: '/var/run/mesos/agent.sock' },
    CWD,
  );
  assert.equal(endpoint.socketPath, '/var/run/mesos/agent.sock');
  assert.equal(endpoint.path, '/slave(1)/api/v1/executor');
  assert.equal(endpoint.protocol, 'http:');
  assert.equal(endpoint.host, undefined);
  assert.equal(endpoint.port, undefined);
  assert.equal(endpoint.description, 'unix:/var/run/mesos/agent.sock/slave(1)/api/v1/executor');
});

test('MESOS_DOMAIN_SOCKET with only MESOS_AGENT_ENDPOINT uses the plain path', () => {
  const endpoint = agentEndpoint({ MESOS_AGENT_ENDPOINT: '10.0.0.5:5051', MESOS_DOMAIN_SOCKET: '/run/agent.sock' }, CWD);
  assert.equal(endpoint.socketPath, '/run/agent.sock');
  assert.equal(endpoint.path, '/api/v1/executor');
  assert.equal(endpoint.host, undefined);
});

test('a socket path of 108 bytes or more is made relative to the working directory', () => {
  const pid = 'slave(1)@10.0.0.5:5051';
  const dir = `/${'d'.repeat(95)}`;
  const cases: Array<[string, string]> = [
    // 107 bytes fits sun_path with its NUL: kept as it is.
    [`${dir}/${'s'.repeat(107 - dir.length - 1)}`, `${dir}/${'s'.repeat(107 - dir.length - 1)}`],
    [`${dir}/${'s'.repeat(108 - dir.length - 1)}`, `./${'s'.repeat(108 - dir.length - 1)}`],
    [`${dir}/sub/agent-socket-with-a-long-name.sock`, './sub/agent-socket-with-a-long-name.sock'],
  ];
  for (const [socket, expected] of cases) {
    const endpoint = agentEndpoint({ MESOS_SLAVE_PID: pid, MESOS_DOMAIN_SOCKET: socket }, dir);
    assert.equal(endpoint.socketPath, expected, `${Buffer.byteLength(socket)}-byte socket path`);
    assert.ok(Buffer.byteLength(endpoint.socketPath!) < 108);
  }
});

test('the 108-byte limit counts bytes, not characters', () => {
  const dir = `/srv/${'a'.repeat(50)}`;
  // 86 characters but 116 bytes: too long for sun_path.
  const socket = `${dir}/${'é'.repeat(30)}`;
  assert.ok(socket.length < 108 && Buffer.byteLength(socket) >= 108);
  const endpoint = agentEndpoint({ MESOS_SLAVE_PID: 'slave(1)@10.0.0.5:5051', MESOS_DOMAIN_SOCKET: socket }, dir);
  assert.equal(endpoint.socketPath, `./${'é'.repeat(30)}`);
});

test('a socket path still too long relative to the working directory is an error naming it', () => {
  const socket = `/${'x'.repeat(150)}/agent.sock`;
  assert.throws(
    () => agentEndpoint({ MESOS_SLAVE_PID: 'slave(1)@10.0.0.5:5051', MESOS_DOMAIN_SOCKET: socket }, '/elsewhere'),
    configError(new RegExp(`^MESOS_DOMAIN_SOCKET '${socket}' is too long: .*108 bytes`)),
  );
});

test('an invalid MESOS_SLAVE_PID is an error naming the value', () => {
  const cases: Array<[string, RegExp]> = [
    ['10.0.0.5:5051', /^Invalid MESOS_SLAVE_PID '10\.0\.0\.5:5051': expected <id>@<ip>:<port>/],
    ['@10.0.0.5:5051', /'@10\.0\.0\.5:5051'/],
    ['slave(1)', /'slave\(1\)'/],
    ['slave 1@10.0.0.5:5051', /'slave 1@10\.0\.0\.5:5051'/],
    ['slave(1)@10.0.0.5', /^Invalid MESOS_SLAVE_PID 'slave\(1\)@10\.0\.0\.5': .*port from 1 to 65535/],
    ['slave(1)@10.0.0.5:0', /MESOS_SLAVE_PID 'slave\(1\)@10\.0\.0\.5:0'/],
    ['slave(1)@10.0.0.5:70000', /MESOS_SLAVE_PID 'slave\(1\)@10\.0\.0\.5:70000'/],
    ['slave(1)@10.0.0.5:50a1', /MESOS_SLAVE_PID 'slave\(1\)@10\.0\.0\.5:50a1'/],
    ['slave(1)@:5051', /MESOS_SLAVE_PID 'slave\(1\)@:5051'/],
  ];
  for (const [pid, pattern] of cases) {
    assert.throws(() => agentEndpoint({ MESOS_SLAVE_PID: pid, MESOS_AGENT_ENDPOINT: '10.0.0.5:5051' }, CWD), configError(pattern), pid);
  }
});

test('an invalid MESOS_AGENT_ENDPOINT is an error naming the value', () => {
  const cases: Array<[string, RegExp]> = [
    ['10.0.0.5', /^Invalid MESOS_AGENT_ENDPOINT '10\.0\.0\.5': expected <ip>:<port> with a port from 1 to 65535$/],
    ['10.0.0.5:0', /'10\.0\.0\.5:0'/],
    ['10.0.0.5:65536', /'10\.0\.0\.5:65536'/],
    ['10.0.0.5:70000', /'10\.0\.0\.5:70000'/],
    ['10.0.0.5:', /'10\.0\.0\.5:'/],
    ['http://10.0.0.5:5051', /'http:\/\/10\.0\.0\.5:5051'/],
  ];
  for (const [endpoint, pattern] of cases) {
    assert.throws(() => agentEndpoint({ MESOS_AGENT_ENDPOINT: endpoint }, CWD), configError(pattern), endpoint);
  }
});

test('with neither MESOS_SLAVE_PID nor MESOS_AGENT_ENDPOINT the error names both', () => {
  for (const env of [{}, { MESOS_SLAVE_PID: '', MESOS_AGENT_ENDPOINT: '' }, { MESOS_DOMAIN_SOCKET: '/run/agent.sock' }]) {
    assert.throws(() => agentEndpoint(env, CWD), configError(/^Expecting 'MESOS_SLAVE_PID' .* or 'MESOS_AGENT_ENDPOINT' .* to be set in the environment$/));
  }
});
