import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDefinition, describeProbe, healthCheckDefinition, InvalidCheckError } from '../../src/checks/check-definition.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { MIN_CHECK_INTERVAL_MS } from '../../src/checks/check-interval.js';

// Decoded messages, as the executor sees them: unset fields read as their proto2 defaults.
const health = (object: Record<string, unknown>): mesos.v1.HealthCheck => mesos.v1.HealthCheck.fromObject(object);
const check = (object: Record<string, unknown>): mesos.v1.CheckInfo => mesos.v1.CheckInfo.fromObject(object);
const decoded = <T>(message: T & object, type: { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T }): T =>
  type.decode(type.encode(message).finish());

test('every bad health check fails with a message naming the field and its value', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['no type', { command: { value: 'true' } }, 'health_check.type is missing: expected COMMAND, HTTP or TCP'],
    ['type UNKNOWN', { type: 'UNKNOWN', command: { value: 'true' } }, 'health_check.type is UNKNOWN: expected COMMAND, HTTP or TCP'],
    ['COMMAND without command', { type: 'COMMAND' }, 'health_check.command is missing: a COMMAND health check needs the command to run'],
    ['COMMAND without value', { type: 'COMMAND', command: {} }, 'health_check.command.value is missing: expected the shell command to run (shell is true)'],
    ['COMMAND with an empty value', { type: 'COMMAND', command: { value: '' } }, "health_check.command.value is '': expected the shell command to run (shell is true)"],
    ['shell=false without value', { type: 'COMMAND', command: { shell: false, arguments: ['x'] } }, 'health_check.command.value is missing: expected the path of the executable to run (shell is false)'],
    ['variable without value', { type: 'COMMAND', command: { value: 'true', environment: { variables: [{ name: 'A' }] } } }, "health_check.command.environment variable 'A' has no value: expected a value"],
    ['variable named with =', { type: 'COMMAND', command: { value: 'true', environment: { variables: [{ name: 'A=B', value: '1' }] } } }, "health_check.command.environment has a variable named 'A=B': expected a non-empty name without '='"],
    ['secret reference', { type: 'COMMAND', command: { value: 'true', environment: { variables: [{ name: 'S', type: 'SECRET', secret: { type: 'REFERENCE', reference: { name: 'vault/s' } } }] } } },
      "health_check.command.environment secret variable 'S' is a reference ('vault/s'): the agent's secret resolver must resolve it to a value before launch"],
    ['HTTP without http', { type: 'HTTP' }, 'health_check.http is missing: an HTTP health check needs at least a port'],
    ['HTTP port 0', { type: 'HTTP', http: { port: 0 } }, 'health_check.http.port is 0: expected a port from 1 to 65535'],
    ['HTTP port 65536', { type: 'HTTP', http: { port: 65536 } }, 'health_check.http.port is 65536: expected a port from 1 to 65535'],
    ['HTTP scheme ftp', { type: 'HTTP', http: { port: 80, scheme: 'ftp' } }, "health_check.http.scheme is 'ftp': expected 'http' or 'https'"],
    ['HTTP path without /', { type: 'HTTP', http: { port: 80, path: 'health' } }, "health_check.http.path is 'health': expected a path starting with '/'"],
    ['TCP without tcp', { type: 'TCP' }, 'health_check.tcp is missing: a TCP health check needs a port'],
    ['TCP port 70000', { type: 'TCP', tcp: { port: 70000 } }, 'health_check.tcp.port is 70000: expected a port from 1 to 65535'],
    ['negative delay', { type: 'TCP', tcp: { port: 80 }, delay_seconds: -1 }, 'health_check.delay_seconds is -1: expected a number of seconds >= 0'],
    ['negative interval', { type: 'TCP', tcp: { port: 80 }, interval_seconds: -0.5 }, 'health_check.interval_seconds is -0.5: expected a number of seconds >= 0'],
    ['negative timeout', { type: 'TCP', tcp: { port: 80 }, timeout_seconds: -2 }, 'health_check.timeout_seconds is -2: expected a number of seconds >= 0'],
    ['negative grace', { type: 'TCP', tcp: { port: 80 }, grace_period_seconds: -3 }, 'health_check.grace_period_seconds is -3: expected a number of seconds >= 0'],
    ['NaN interval', { type: 'TCP', tcp: { port: 80 }, interval_seconds: Number.NaN }, 'health_check.interval_seconds is NaN: expected a number of seconds >= 0'],
  ];
  for (const [name, object, message] of cases) {
    assert.throws(() => healthCheckDefinition(health(object)), (error: unknown) => {
      assert.ok(error instanceof InvalidCheckError, name);
      assert.equal(error.code, 'ERR_INVALID_CHECK');
      assert.equal(error.message, message, name);
      return true;
    }, name);
  }
});

test('every bad general check fails with a message naming the field and its value', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['no type', { tcp: { port: 80 } }, 'check.type is missing: expected COMMAND, HTTP or TCP'],
    ['type UNKNOWN', { type: 'UNKNOWN' }, 'check.type is UNKNOWN: expected COMMAND, HTTP or TCP'],
    ['COMMAND without command', { type: 'COMMAND' }, 'check.command.command is missing: a COMMAND check needs the command to run'],
    ['COMMAND without value', { type: 'COMMAND', command: { command: { shell: true } } }, 'check.command.command.value is missing: expected the shell command to run (shell is true)'],
    ['HTTP without http', { type: 'HTTP' }, 'check.http is missing: an HTTP check needs at least a port'],
    ['HTTP port 0', { type: 'HTTP', http: { port: 0 } }, 'check.http.port is 0: expected a port from 1 to 65535'],
    ['HTTP path without /', { type: 'HTTP', http: { port: 8080, path: 'x' } }, "check.http.path is 'x': expected a path starting with '/'"],
    ['TCP without tcp', { type: 'TCP' }, 'check.tcp is missing: a TCP check needs a port'],
    ['TCP port 99999', { type: 'TCP', tcp: { port: 99999 } }, 'check.tcp.port is 99999: expected a port from 1 to 65535'],
    ['negative delay', { type: 'TCP', tcp: { port: 1 }, delay_seconds: -1 }, 'check.delay_seconds is -1: expected a number of seconds >= 0'],
    ['negative timeout', { type: 'TCP', tcp: { port: 1 }, timeout_seconds: -1 }, 'check.timeout_seconds is -1: expected a number of seconds >= 0'],
  ];
  for (const [name, object, message] of cases) {
    assert.throws(() => checkDefinition(check(object)), { name: 'InvalidCheckError', code: 'ERR_INVALID_CHECK', message }, name);
  }
});

test('a health check with the proto defaults: 15 s delay, 10 s interval, 20 s timeout, 3 failures, 10 s grace', () => {
  const definition = healthCheckDefinition(decoded(health({ type: 'TCP', tcp: { port: 8080 } }), mesos.v1.HealthCheck));
  assert.deepEqual(definition, {
    probe: { type: 'TCP', port: 8080, ipv6: false },
    delayMs: 15_000,
    intervalMs: 10_000,
    timeoutMs: 20_000,
    gracePeriodMs: 10_000,
    consecutiveFailures: 3,
  });
});

test('COMMAND checks: sh -c for shell=true, value and arguments for shell=false, environment for the exec', () => {
  const shell = healthCheckDefinition(health({
    type: 'COMMAND',
    command: { value: "echo '\"' && test -f /tmp/ok", environment: { variables: [{ name: 'A', value: 'x=y' }, { name: 'EMPTY', value: '' }] } },
    delay_seconds: 0.5,
    interval_seconds: 0,
    timeout_seconds: 0,
    grace_period_seconds: 0,
    consecutive_failures: 1,
  }));
  assert.deepEqual(shell.probe, { type: 'COMMAND', argv: ['sh', '-c', "echo '\"' && test -f /tmp/ok"], env: ['A=x=y', 'EMPTY='], secrets: [] });
  assert.equal(shell.delayMs, 500);
  assert.equal(shell.intervalMs, 1000, 'interval 0 is valid and raised to the floor');
  assert.equal(shell.timeoutMs, 0, 'timeout 0 means none');
  assert.equal(shell.consecutiveFailures, 1);
  assert.equal(describeProbe(shell.probe), `COMMAND 'echo '"' && test -f /tmp/ok'`);

  const direct = checkDefinition(check({ type: 'COMMAND', command: { command: { shell: false, value: '/bin/test', arguments: ['-f', '/tmp/ok'] } } }));
  assert.deepEqual(direct.probe, { type: 'COMMAND', argv: ['/bin/test', '-f', '/tmp/ok'], env: [], secrets: [] });

  const secret = healthCheckDefinition(health({
    type: 'COMMAND',
    command: { value: 'true', environment: { variables: [{ name: 'TOKEN', type: 'SECRET', secret: { type: 'VALUE', value: { data: Buffer.from('s3cr3t-value') } } }] } },
  }));
  assert.deepEqual(secret.probe, { type: 'COMMAND', argv: ['sh', '-c', 'true'], env: ['TOKEN=s3cr3t-value'], secrets: ['s3cr3t-value'] });
});

test('HTTP and TCP checks: scheme, path, IPv6; general HTTP checks are plain http on IPv4', () => {
  assert.deepEqual(healthCheckDefinition(health({ type: 'HTTP', http: { port: 443, scheme: 'https', path: '/health?x=1', protocol: 'IPv6' } })).probe,
    { type: 'HTTP', scheme: 'https', port: 443, path: '/health?x=1', ipv6: true });
  assert.deepEqual(healthCheckDefinition(health({ type: 'HTTP', http: { port: 80 } })).probe,
    { type: 'HTTP', scheme: 'http', port: 80, path: '', ipv6: false });
  assert.deepEqual(healthCheckDefinition(health({ type: 'TCP', tcp: { port: 65535, protocol: 'IPv6' } })).probe, { type: 'TCP', port: 65535, ipv6: true });
  assert.deepEqual(checkDefinition(check({ type: 'HTTP', http: { port: 8080, path: '/ready' } })).probe,
    { type: 'HTTP', scheme: 'http', port: 8080, path: '/ready', ipv6: false });
  assert.equal(describeProbe(checkDefinition(check({ type: 'HTTP', http: { port: 8080, path: '/ready' } })).probe), 'HTTP http://127.0.0.1:8080/ready');
  const timing = checkDefinition(check({ type: 'TCP', tcp: { port: 1 } }));
  assert.deepEqual([timing.delayMs, timing.intervalMs, timing.timeoutMs], [15_000, 10_000, 20_000], 'CheckInfo defaults');
});

test('intervals below the 1 s floor are raised; longer ones are kept; negative ones are still refused', () => {
  assert.equal(MIN_CHECK_INTERVAL_MS, 1000);
  const cases: Array<[number | undefined, number]> = [[0, 1000], [0.001, 1000], [0.5, 1000], [0.999, 1000], [1, 1000], [1.5, 1500], [undefined, 10_000], [Infinity, Infinity]];
  for (const [interval, expected] of cases) {
    const fields = { type: 'TCP', tcp: { port: 80 }, ...(interval !== undefined ? { interval_seconds: interval } : {}) };
    assert.equal(healthCheckDefinition(health(fields)).intervalMs, expected, `health_check interval ${interval}`);
    assert.equal(checkDefinition(check(fields)).intervalMs, expected, `check interval ${interval}`);
  }
  assert.throws(() => healthCheckDefinition(health({ type: 'TCP', tcp: { port: 80 }, interval_seconds: -1 })), /interval_seconds is -1/);
});
