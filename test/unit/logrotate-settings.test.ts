// The rotating logger's settings: the agent's flags (Mesos names), the per-task overrides from the
// task's environment, and a clear one-line refusal naming the flag or variable for a bad value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { parseFlags } from '../../src/config/flags.js';
import { loggerFlags, loggerSettings } from '../../src/agent/logger-flags.js';
import { ContainerLoggerError, parseLogrotateOptions, parseMaxSize, taskLogrotateSettings, type LogrotateSettings } from '../../src/agent/logrotate-settings.js';
import { parseLoggerArgs } from '../../src/logrotate/logger-args.js';
import { mesos } from '../../src/proto/generated/mesos.js';

// Any file that exists stands for the logger program here.
const LOGGER = import.meta.filename;

function settingsFrom(argv: string[]): LogrotateSettings | undefined {
  return loggerSettings(parseFlags(argv, loggerFlags()), LOGGER);
}

function taskWith(variables: { name: string; value?: string; type?: number }[]): mesos.v1.ITaskInfo {
  return { name: 't', task_id: { value: 't' }, agent_id: { value: 'a' }, command: { value: 'true', environment: { variables } } };
}

test('max sizes take Mesos byte sizes of at least 4KB', () => {
  assert.deepEqual(parseMaxSize('256KB'), { ok: true, value: 256 * 1024 });
  assert.deepEqual(parseMaxSize('10MB'), { ok: true, value: 10 * 1024 * 1024 });
  assert.deepEqual(parseMaxSize('4096B'), { ok: true, value: 4096 });
  assert.deepEqual(parseMaxSize('4095B'), { ok: false, error: "expected at least 4KB, got '4095B'" });
  assert.match((parseMaxSize('10 apples') as { error: string }).error, /expected a size like '512MB'/);
});

test('logrotate options: rotate N, nothing else', () => {
  assert.deepEqual(parseLogrotateOptions('rotate 9'), { ok: true, value: 9 });
  assert.deepEqual(parseLogrotateOptions('  rotate 5\n'), { ok: true, value: 5 });
  assert.deepEqual(parseLogrotateOptions(''), { ok: true, value: 0 });
  assert.deepEqual(parseLogrotateOptions('compress\nrotate 3'), { ok: false, error: "unsupported logrotate option 'compress' (only 'rotate N' is supported)" });
  assert.deepEqual(parseLogrotateOptions('rotate 3; size 10M'), { ok: false, error: "unsupported logrotate option 'size' (only 'rotate N' is supported)" });
  assert.deepEqual(parseLogrotateOptions('rotate -1'), { ok: false, error: "expected 'rotate N' with N a whole number of files, got 'rotate -1'" });
  assert.deepEqual(parseLogrotateOptions('rotate'), { ok: false, error: "expected 'rotate N' with N a whole number of files, got 'rotate'" });
  assert.deepEqual(parseLogrotateOptions('rotate 1001'), { ok: false, error: "expected at most 1000 rotated files, got 'rotate 1001'" });
  assert.equal((parseLogrotateOptions('rotate 1\nrotate 2') as { ok: boolean }).ok, false);
});

test('flags: the sandbox logger by default, rotation on request with Mesos defaults', () => {
  assert.equal(settingsFrom([]), undefined);
  assert.equal(settingsFrom(['--container_logger=sandbox']), undefined);
  const defaults = { maxBytes: 10 * 1024 * 1024, keep: 0 };
  assert.deepEqual(settingsFrom(['--container_logger=rotate']), { loggerPath: LOGGER, stdout: defaults, stderr: defaults });
  assert.deepEqual(settingsFrom([
    '--container_logger=org_apache_mesos_LogrotateContainerLogger',
    '--max_stdout_size=256KB',
    '--logrotate_stdout_options=rotate 5',
    '--max_stderr_size=1MB',
    '--logrotate_stderr_options=rotate 2',
  ]), { loggerPath: LOGGER, stdout: { maxBytes: 256 * 1024, keep: 5 }, stderr: { maxBytes: 1024 * 1024, keep: 2 } });
});

test('flags: bad values are refused by name', () => {
  const refused = (argv: string[], message: RegExp): void => {
    assert.throws(() => settingsFrom(argv), (error: unknown) => error instanceof ConfigError && message.test(error.message));
  };
  refused(['--container_logger=journald'], /^Invalid --container_logger: expected 'sandbox' or 'rotate' \(or org_apache_mesos_LogrotateContainerLogger\), got 'journald'$/);
  refused(['--container_logger=rotate', '--max_stdout_size=1KB'], /^Invalid --max_stdout_size: expected at least 4KB, got '1KB'$/);
  refused(['--container_logger=rotate', '--logrotate_stderr_options=compress'], /^Invalid --logrotate_stderr_options: unsupported logrotate option 'compress'/);
  refused(['--max_stdout_size=1MB'], /^--max_stdout_size needs --container_logger=rotate/);
  assert.throws(() => loggerSettings(parseFlags(['--container_logger=rotate'], loggerFlags()), '/nonexistent/logrotate.js'), /does not exist: run 'npm run build' first/);
});

test('the task\'s environment overrides the flags, stream by stream', () => {
  const agent: LogrotateSettings = { loggerPath: LOGGER, stdout: { maxBytes: 10 * 1024 * 1024, keep: 0 }, stderr: { maxBytes: 8192, keep: 1 } };
  assert.deepEqual(taskLogrotateSettings(agent, taskWith([])), agent);
  assert.deepEqual(taskLogrotateSettings(agent, taskWith([
    { name: 'CONTAINER_LOGGER_MAX_STDOUT_SIZE', value: '256KB' },
    { name: 'CONTAINER_LOGGER_LOGROTATE_STDOUT_OPTIONS', value: 'rotate 5' },
    { name: 'OTHER', value: 'x' },
  ])), { ...agent, stdout: { maxBytes: 256 * 1024, keep: 5 } });
  assert.deepEqual(taskLogrotateSettings(agent, taskWith([
    { name: 'CONTAINER_LOGGER_MAX_STDERR_SIZE', value: '64KB' },
    { name: 'CONTAINER_LOGGER_LOGROTATE_STDERR_OPTIONS', value: 'rotate 3' },
  ])), { ...agent, stderr: { maxBytes: 64 * 1024, keep: 3 } });
});

test('a bad override fails with the variable\'s name', () => {
  const agent: LogrotateSettings = { loggerPath: LOGGER, stdout: { maxBytes: 8192, keep: 0 }, stderr: { maxBytes: 8192, keep: 0 } };
  const refused = (variables: { name: string; value?: string; type?: number }[], message: string): void => {
    assert.throws(() => taskLogrotateSettings(agent, taskWith(variables)), (error: unknown) => error instanceof ContainerLoggerError && error.message === message);
  };
  refused([{ name: 'CONTAINER_LOGGER_MAX_STDOUT_SIZE', value: 'huge' }],
    "Invalid CONTAINER_LOGGER_MAX_STDOUT_SIZE in the task's environment: expected a size like '512MB' or '2GB' (units B, KB, MB, GB, TB), got 'huge'");
  refused([{ name: 'CONTAINER_LOGGER_LOGROTATE_STDERR_OPTIONS', value: 'rotate 2\nmissingok' }],
    "Invalid CONTAINER_LOGGER_LOGROTATE_STDERR_OPTIONS in the task's environment: unsupported logrotate option 'missingok' (only 'rotate N' is supported)");
  refused([{ name: 'CONTAINER_LOGGER_MAX_STDERR_SIZE', type: mesos.v1.Environment.Variable.Type.SECRET }],
    "Invalid CONTAINER_LOGGER_MAX_STDERR_SIZE in the task's environment: expected a plain value, not a SECRET");
});

test('the logger\'s own command line', () => {
  assert.deepEqual(parseLoggerArgs(['--log_filename=/s/box/stdout', '--max_size=4096', '--rotate=5', '--fd=3']), { directory: '/s/box', name: 'stdout', maxBytes: 4096, keep: 5, fd: 3 });
  assert.equal(parseLoggerArgs(['--log_filename=/s/stderr', '--max_size=1', '--rotate=0']).fd, undefined);
  assert.throws(() => parseLoggerArgs(['--log_filename=stdout', '--max_size=1', '--rotate=0']), /absolute path/);
  assert.throws(() => parseLoggerArgs(['--log_filename=/s/stdout', '--max_size=0', '--rotate=0']), /--max_size must be a whole number of at least 1, got '0'/);
  assert.throws(() => parseLoggerArgs(['--log_filename=/s/stdout', '--max_size=1', '--rotate=0', '--user=root']), /unexpected argument '--user=root'/);
});
