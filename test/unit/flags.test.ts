import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error.js';
import { formatHelp, parseBool, parseFlags, type FlagSpec } from '../../src/config/flags.js';
import { EXECUTOR_FLAGS, executorHelp, loadExecutorConfig, type ExecutorConfig } from '../../src/config/executor-config.js';
import { PERMISSIVE_POLICY } from '../../src/config/policy-flags.js';

const SPECS: FlagSpec[] = [
  { name: 'name', kind: 'string', help: 'a string' },
  { name: 'verbose', kind: 'bool', help: 'a bool', default: 'false' },
  { name: 'cgroups_enable_cfs', kind: 'bool', help: 'a bool', default: 'false' },
  { name: 'timeout', kind: 'duration', help: 'a duration' },
  { name: 'count', kind: 'int', help: 'an int' },
];

const SANDBOX = '/var/lib/mesos/slaves/a1/frameworks/f1/executors/e1/runs/c1';
const CONTAINER = 'mesos-9d1c5f2e-4b3a-4c1d-9e8f-0a1b2c3d4e5f';

// The command line a Mesos agent gives the docker executor (spec 3.3), flags in map order.
const STOCK_ARGV = [
  '--cgroups_enable_cfs=false',
  `--container=${CONTAINER}`,
  '--docker=docker',
  '--docker_socket=/var/run/docker.sock',
  '--help=false',
  '--initialize_driver_logging=true',
  '--launcher_dir=/usr/libexec/mesos',
  '--logbufsecs=0',
  '--logging_level=INFO',
  '--mapped_directory=/mnt/mesos/sandbox',
  '--quiet=false',
  `--sandbox_directory=${SANDBOX}`,
  '--stop_timeout=0ns',
];

const ENV: NodeJS.ProcessEnv = {
  MESOS_FRAMEWORK_ID: 'fw-1',
  MESOS_EXECUTOR_ID: 'task-1',
  MESOS_SLAVE_PID: 'slave(1)@10.0.0.5:5051',
};

function configError(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_CONFIG');
    assert.doesNotMatch(err.message, /\n/, 'the message is one line');
    assert.match(err.message, pattern);
    return true;
  };
}

function load(argv: string[], env: NodeJS.ProcessEnv = ENV, cwd = '/tmp/cwd'): ExecutorConfig {
  const parsed = loadExecutorConfig(argv, env, cwd);
  assert.equal(parsed.help, false);
  if (parsed.help) throw new Error('unreachable');
  return parsed.config;
}

test('parseFlags reads each form of flag', () => {
  const cases: Array<[string[], Record<string, string>]> = [
    [['--name=value'], { name: 'value' }],
    [['--name=a=b'], { name: 'a=b' }],
    [['--name='], { name: '' }],
    [['--name=  padded  '], { name: 'padded' }],
    [['--NAME=Value'], { name: 'Value' }],
    [['--verbose'], { verbose: 'true' }],
    [['--no-verbose'], { verbose: 'false' }],
    [['--verbose=false'], { verbose: 'false' }],
    [['--cgroups_enable_cfs=false'], { cgroups_enable_cfs: 'false' }],
    [['--cgroups_enable_cfs=true', '--timeout=5secs', '--count=3'], { cgroups_enable_cfs: 'true', timeout: '5secs', count: '3' }],
    [[], {}],
  ];
  for (const [argv, expected] of cases) {
    assert.deepEqual(Object.fromEntries(parseFlags(argv, SPECS)), expected, argv.join(' '));
  }
});

test('parseFlags stops at --', () => {
  const flags = parseFlags(['--name=x', '--', '--unknown=1', 'bare', '--name=y'], SPECS);
  assert.deepEqual(Object.fromEntries(flags), { name: 'x' });
});

test('parseFlags refuses bad command lines with a message naming the argument', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus=1'], /^Unknown flag '--bogus' \(see --help/],
    [['--bogus'], /Unknown flag '--bogus'/],
    [['--no-name'], /Unknown flag '--no-name'/],
    [['--no-bogus'], /Unknown flag '--no-bogus'/],
    [['--name=a', '--name=b'], /^Flag '--name' was given more than once$/],
    [['--verbose', '--no-verbose'], /^Flag '--verbose' was given more than once$/],
    [['--name'], /^Flag '--name' needs a value: --name=<string>$/],
    [['--timeout'], /^Flag '--timeout' needs a value: --timeout=<duration>$/],
    [['bare'], /^Unexpected argument 'bare': flags take the form --name=value$/],
    [['-name=x'], /Unexpected argument '-name=x'/],
    [['--name=x', 'extra'], /Unexpected argument 'extra'/],
  ];
  for (const [argv, pattern] of cases) {
    assert.throws(() => parseFlags(argv, SPECS), configError(pattern), argv.join(' '));
  }
});

test('parseBool accepts true/false/1/0 and names the flag otherwise', () => {
  const cases: Array<[string, boolean]> = [['true', true], ['1', true], ['false', false], ['0', false]];
  for (const [value, expected] of cases) assert.equal(parseBool('--verbose', value), expected, value);
  assert.throws(() => parseBool('--verbose', 'yes'), configError(/^Invalid value 'yes' for --verbose: expected true or false$/));
});

test('formatHelp lists the usage, every flag with its kind, and defaults', () => {
  const help = formatHelp('Usage: x', SPECS);
  assert.ok(help.startsWith('Usage: x\n'));
  for (const spec of SPECS) {
    assert.match(help, new RegExp(`--${spec.name}=<${spec.kind}>\\s+${spec.help}`));
  }
  assert.match(help, /--verbose=<bool>\s+a bool \(default: false\)/);
  assert.doesNotMatch(help, /a string \(default/);
});

test('executorHelp lists every flag of EXECUTOR_FLAGS', () => {
  const help = executorHelp();
  assert.ok(EXECUTOR_FLAGS.length >= 18);
  for (const spec of EXECUTOR_FLAGS) {
    assert.ok(help.includes(`--${spec.name}=<${spec.kind}>`), `--${spec.name} missing from the help`);
    assert.ok(help.includes(spec.help), `help text of --${spec.name} missing`);
  }
});

test('every flag the agent passes to the stock executor is known', () => {
  const names = new Set(EXECUTOR_FLAGS.map((spec) => spec.name));
  for (const name of [
    'container', 'docker', 'docker_socket', 'sandbox_directory', 'mapped_directory', 'launcher_dir',
    'task_environment', 'default_container_dns', 'cgroups_enable_cfs', 'stop_timeout', 'help', 'quiet',
    'logging_level', 'log_dir', 'logbufsecs', 'initialize_driver_logging', 'external_log_file',
  ]) {
    assert.ok(names.has(name), `--${name}`);
  }
});

test('the stock agent command line and a minimal environment give the right typed config', () => {
  assert.deepEqual(load(STOCK_ARGV), {
    frameworkId: 'fw-1',
    executorId: 'task-1',
    agentId: undefined,
    agent: {
      protocol: 'http:',
      host: '10.0.0.5',
      port: 5051,
      path: '/slave(1)/api/v1/executor',
      description: 'http://10.0.0.5:5051/slave(1)/api/v1/executor',
    },
    contentType: 'application/x-protobuf',
    authToken: undefined,
    checkpoint: false,
    recoveryTimeoutMs: 15 * 60_000,
    subscriptionBackoffMaxMs: 2_000,
    registrationTimeoutMs: 60_000,
    shutdownGracePeriodMs: 5_000,
    containerName: CONTAINER,
    dockerPath: 'docker',
    dockerSocket: '/var/run/docker.sock',
    sandboxDirectory: SANDBOX,
    mappedDirectory: '/mnt/mesos/sandbox',
    launcherDir: '/usr/libexec/mesos',
    taskEnvironment: {},
    defaultContainerDns: undefined,
    cgroupsEnableCfs: false,
    dockerConfig: undefined,
    dockerApiTimeoutMs: 30_000,
    terminalAckTimeoutMs: 60_000,
    orphanAdoptionWindowMs: 30_000,
    stateDir: '/var/lib/mesos-docker-executor',
    containerLogDriver: 'daemon',
    loggingLevel: 'INFO',
    quiet: false,
    // The stock argv keeps the stock executor's parity.
    policy: PERMISSIVE_POLICY,
  } satisfies ExecutorConfig);
});

test('the optional flags the agent may add are read', () => {
  const dns = { docker: [{ network_mode: 'BRIDGE', dns: { nameservers: ['8.8.8.8'] } }] };
  const config = load([
    ...STOCK_ARGV.filter((arg) => !arg.startsWith('--cgroups_enable_cfs')),
    '--cgroups_enable_cfs=true',
    '--task_environment={"A":"1","B":"two words"}',
    `--default_container_dns=${JSON.stringify(dns)}`,
  ]);
  assert.equal(config.cgroupsEnableCfs, true);
  assert.deepEqual(config.taskEnvironment, { A: '1', B: 'two words' });
  assert.deepEqual(config.defaultContainerDns, dns);
});

test('the agent environment fills the rest', () => {
  const config = load(['--docker=/usr/bin/docker'], {
    ...ENV,
    MESOS_SLAVE_ID: 'agent-7',
    MESOS_DIRECTORY: '/sandbox/from/env',
    MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'jwt',
    MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '12secs',
    MESOS_EXECUTOR_REGISTRATION_TIMEOUT: '2mins',
  });
  assert.equal(config.agentId, 'agent-7');
  assert.equal(config.sandboxDirectory, '/sandbox/from/env');
  assert.equal(config.authToken, 'jwt');
  assert.equal(config.shutdownGracePeriodMs, 12_000);
  assert.equal(config.registrationTimeoutMs, 120_000);
  assert.equal(config.dockerPath, '/usr/bin/docker');
  assert.equal(config.containerName, undefined);
});

test('without --sandbox_directory or MESOS_DIRECTORY the sandbox is the working directory', () => {
  assert.equal(load([], ENV, '/work/dir').sandboxDirectory, '/work/dir');
  assert.equal(load([], { ...ENV, MESOS_DIRECTORY: '/env/dir' }, '/work/dir').sandboxDirectory, '/env/dir');
  assert.equal(load(['--sandbox_directory=/flag/dir'], { ...ENV, MESOS_DIRECTORY: '/env/dir' }).sandboxDirectory, '/flag/dir');
});

test('--help returns help, before the environment is checked', () => {
  for (const argv of [['--help'], ['--help=true'], ['--container=x', '--help']]) {
    assert.deepEqual(loadExecutorConfig(argv, {}, '/'), { help: true }, argv.join(' '));
  }
  assert.equal(loadExecutorConfig(['--help=false'], ENV, '/tmp/cwd').help, false);
  assert.equal(loadExecutorConfig(['--no-help'], ENV, '/tmp/cwd').help, false);
});

test('MESOS_CHECKPOINT=1 turns checkpointing on with the default recovery timeout and backoff', () => {
  const config = load(STOCK_ARGV, { ...ENV, MESOS_CHECKPOINT: '1' });
  assert.equal(config.checkpoint, true);
  assert.equal(config.recoveryTimeoutMs, 15 * 60_000);
  assert.equal(config.subscriptionBackoffMaxMs, 2_000);

  const given = load(STOCK_ARGV, {
    ...ENV,
    MESOS_CHECKPOINT: '1',
    MESOS_RECOVERY_TIMEOUT: '30mins',
    MESOS_SUBSCRIPTION_BACKOFF_MAX: '15secs',
  });
  assert.equal(given.recoveryTimeoutMs, 30 * 60_000);
  assert.equal(given.subscriptionBackoffMaxMs, 15_000);

  for (const value of ['0', 'true', '']) {
    assert.equal(load(STOCK_ARGV, { ...ENV, MESOS_CHECKPOINT: value }).checkpoint, false, `MESOS_CHECKPOINT=${value}`);
  }
});

test('--stop_timeout raises the shutdown grace period when larger, never lowers it', () => {
  const cases: Array<[string | undefined, string, number]> = [
    [undefined, '--stop_timeout=10secs', 10_000],
    [undefined, '--stop_timeout=1secs', 5_000],
    [undefined, '--stop_timeout=0ns', 5_000],
    ['3secs', '--stop_timeout=4secs', 4_000],
    ['1mins', '--stop_timeout=30secs', 60_000],
  ];
  for (const [grace, flag, expected] of cases) {
    const env = grace === undefined ? ENV : { ...ENV, MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: grace };
    assert.equal(load([flag], env).shutdownGracePeriodMs, expected, `${grace ?? 'default'} with ${flag}`);
  }
});

test('the fail-safes are flags: --terminal_ack_timeout and --orphan_adoption_window', () => {
  const config = load([...STOCK_ARGV, '--terminal_ack_timeout=1500ms', '--orphan_adoption_window=2secs']);
  assert.equal(config.terminalAckTimeoutMs, 1500);
  assert.equal(config.orphanAdoptionWindowMs, 2000);
  assert.equal(load([...STOCK_ARGV, '--orphan_adoption_window=0secs']).orphanAdoptionWindowMs, 0, 'no adoption window: every orphan goes');
  assert.equal(load([...STOCK_ARGV, '--terminal_ack_timeout=24days']).terminalAckTimeoutMs, 24 * 86_400_000);
  const cases: Array<[string, RegExp]> = [
    ['--terminal_ack_timeout=60', /^Invalid --terminal_ack_timeout: expected a duration like '5secs', '500ms' or '15mins', got '60'$/],
    ['--terminal_ack_timeout=0secs', /^Invalid --terminal_ack_timeout '0secs': expected a duration above zero$/],
    ['--terminal_ack_timeout=25days', /^Invalid --terminal_ack_timeout '25days': expected at most 24days$/],
    ['--orphan_adoption_window=-1secs', /^Invalid --orphan_adoption_window: .*got '-1secs'$/],
    ['--orphan_adoption_window=30seconds', /^Invalid --orphan_adoption_window: unknown unit 'seconds' in '30seconds'/],
  ];
  for (const [arg, pattern] of cases) {
    assert.throws(() => load([...STOCK_ARGV, arg]), configError(pattern), arg);
  }
});

test('--content_type selects JSON or protobuf', () => {
  const cases: Array<[string, string]> = [
    ['--content_type=json', 'application/json'],
    ['--content_type=JSON', 'application/json'],
    ['--content_type=application/json', 'application/json'],
    ['--content_type=protobuf', 'application/x-protobuf'],
    ['--content_type=application/x-protobuf', 'application/x-protobuf'],
  ];
  for (const [flag, expected] of cases) assert.equal(load([flag]).contentType, expected, flag);
});

test('--container_log_driver is auto, daemon or local; anything else is a one-line error', () => {
  assert.equal(load([]).containerLogDriver, 'daemon');
  for (const choice of ['auto', 'daemon', 'local'] as const) assert.equal(load([`--container_log_driver=${choice}`]).containerLogDriver, choice);
  assert.throws(() => load(['--container_log_driver=journald']), configError(/^Invalid --container_log_driver 'journald': expected auto, daemon, local$/));
});

test('--quiet and --logging_level choose the log level', () => {
  assert.equal(load(['--quiet']).loggingLevel, 'WARNING');
  assert.equal(load(['--quiet']).quiet, true);
  assert.equal(load(['--quiet', '--logging_level=ERROR']).loggingLevel, 'ERROR');
  assert.equal(load(['--logging_level=warning']).loggingLevel, 'WARNING');
});

test('a missing or empty agent contract variable is an error naming it', () => {
  const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ MESOS_EXECUTOR_ID: 'e', MESOS_SLAVE_PID: ENV.MESOS_SLAVE_PID }, /^Expecting 'MESOS_FRAMEWORK_ID' to be set in the environment$/],
    [{ ...ENV, MESOS_FRAMEWORK_ID: '' }, /'MESOS_FRAMEWORK_ID'/],
    [{ MESOS_FRAMEWORK_ID: 'f', MESOS_SLAVE_PID: ENV.MESOS_SLAVE_PID }, /^Expecting 'MESOS_EXECUTOR_ID' to be set in the environment$/],
    [{ MESOS_FRAMEWORK_ID: 'f', MESOS_EXECUTOR_ID: 'e' }, /'MESOS_SLAVE_PID'.*'MESOS_AGENT_ENDPOINT'/],
  ];
  for (const [env, pattern] of cases) {
    assert.throws(() => load(STOCK_ARGV, env), configError(pattern), JSON.stringify(env));
  }
});

test('bad values are errors naming the flag or variable and the value', () => {
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [[], { ...ENV, MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5seconds' }, /MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD.*'5seconds'/],
    [[], { ...ENV, MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5' }, /^Invalid MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: .*got '5'/],
    [[], { ...ENV, MESOS_CHECKPOINT: '1', MESOS_RECOVERY_TIMEOUT: 'soon' }, /MESOS_RECOVERY_TIMEOUT.*'soon'/],
    [[], { ...ENV, MESOS_SUBSCRIPTION_BACKOFF_MAX: '-1secs' }, /MESOS_SUBSCRIPTION_BACKOFF_MAX.*'-1secs'/],
    [['--stop_timeout=10'], ENV, /^Invalid --stop_timeout: .*'10'/],
    [['--docker_socket=docker.sock'], ENV, /^Invalid --docker_socket 'docker.sock': expected an absolute path/],
    [['--docker_socket=./run/docker.sock'], ENV, /'\.\/run\/docker\.sock'/],
    [['--mapped_directory=sandbox'], ENV, /^Invalid --mapped_directory 'sandbox'/],
    [['--sandbox_directory=rel/dir'], ENV, /^Invalid sandbox directory 'rel\/dir'/],
    [['--container=-bad'], ENV, /^Invalid --container '-bad'/],
    [['--container=has space'], ENV, /'has space'/],
    [['--content_type=xml'], ENV, /^Invalid --content_type 'xml': expected protobuf or json$/],
    [['--logging_level=DEBUG'], ENV, /^Invalid --logging_level 'DEBUG'/],
    [['--logbufsecs=ten'], ENV, /^Invalid --logbufsecs 'ten'/],
    [['--cgroups_enable_cfs=maybe'], ENV, /Invalid value 'maybe' for --cgroups_enable_cfs/],
    [['--initialize_driver_logging=nope'], ENV, /'nope' for --initialize_driver_logging/],
    [['--quiet=2'], ENV, /'2' for --quiet/],
    [['--default_container_dns={oops'], ENV, /^Failed to parse --default_container_dns: /],
    [['--unknown_flag=1'], ENV, /Unknown flag '--unknown_flag'/],
    [['--docker=a', '--docker=b'], ENV, /Flag '--docker' was given more than once/],
    [['--state_dir=relative/state'], ENV, /^Invalid --state_dir 'relative\/state': expected an absolute path/],
    [['--state_dir=/tmp/cwd/state'], ENV, /^Invalid --state_dir '\/tmp\/cwd\/state': it lies inside the sandbox \/tmp\/cwd/],
    [['--state_dir=/tmp/cwd'], ENV, /it lies inside the sandbox/],
    [['--state_dir=/tmp/other/../cwd/x/'], ENV, /it lies inside the sandbox/],
  ];
  for (const [argv, env, pattern] of cases) {
    assert.throws(() => load(argv, env), configError(pattern), `${argv.join(' ')} ${JSON.stringify(env)}`);
  }
});

test('--task_environment must be a JSON object of strings', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"K":1}', /^Value of key 'K' in --task_environment is not a string$/],
    ['{"A":"ok","K":null}', /^Value of key 'K' in --task_environment is not a string$/],
    ['{"K":{"nested":"x"}}', /^Value of key 'K' in --task_environment is not a string$/],
    ['{"K":true}', /Value of key 'K'/],
    ['[1,2]', /^Failed to parse --task_environment: expected a JSON object of strings, got \[1,2\]$/],
    ['"text"', /^Failed to parse --task_environment: expected a JSON object/],
    ['null', /^Failed to parse --task_environment: expected a JSON object/],
    ['{not json', /^Failed to parse --task_environment: /],
    ['', /^Failed to parse --task_environment: /],
  ];
  for (const [json, pattern] of cases) {
    assert.throws(() => load([`--task_environment=${json}`]), configError(pattern), json);
  }
  assert.deepEqual(load(['--task_environment={}']).taskEnvironment, {});
  assert.deepEqual(load(['--task_environment={"EMPTY":""}']).taskEnvironment, { EMPTY: '' });
});
