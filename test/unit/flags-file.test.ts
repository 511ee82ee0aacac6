// The operator flags file: trusted only as a regular file that nobody but root or the executor's
// user can change; comments and blank lines skipped; command-line flags win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error.js';
import { loadExecutorConfig } from '../../src/config/executor-config.js';
import { parseFlagsText, readFlagsFile } from '../../src/config/flags-file.js';

const ENV: NodeJS.ProcessEnv = { MESOS_FRAMEWORK_ID: 'fw-1', MESOS_EXECUTOR_ID: 'task-1', MESOS_SLAVE_PID: 'slave(1)@127.0.0.1:5051' };
const UID = process.getuid!();
const dir = mkdtempSync(join(tmpdir(), 'flags-file-'));
let counter = 0;

function flagsFile(text: string, mode = 0o644): string {
  counter += 1;
  const path = join(dir, `flags-${counter}`);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function load(argv: string[]) {
  const parsed = loadExecutorConfig(argv, ENV, '/tmp/cwd');
  assert.equal(parsed.help, false);
  return parsed.help ? undefined! : parsed.config;
}

function configError(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/);
    assert.match(error.message, pattern);
    return true;
  };
}

test('flags from the file apply; comments and blank lines are skipped; the command line wins', () => {
  const path = flagsFile([
    '# hardened policy',
    '',
    '  --allow_privileged=false  ',
    '--allowed_host_paths=/srv/data',
    '\t# indented comment',
    '--allow_devices=false\r',
    '--docker_api_timeout=5secs',
  ].join('\n'));
  const config = load([`--flags_file=${path}`, '--allow_devices=true']);
  assert.equal(config.policy.allowPrivileged, false);
  assert.deepEqual(config.policy.allowedHostPaths, ['/srv/data']);
  assert.equal(config.policy.allowDevices, true, 'the command line wins');
  assert.equal(config.dockerApiTimeoutMs, 5000, 'any executor flag can come from the file');
});

test('a missing default file is no flags; a missing named file is an error', () => {
  assert.equal(readFlagsFile(join(dir, 'absent'), false, UID), undefined);
  assert.throws(() => load([`--flags_file=${join(dir, 'absent')}`]), configError(/^Cannot open flags file '.*absent': ENOENT$/));
  assert.throws(() => load(['--flags_file=relative/flags']), configError(/^Invalid --flags_file 'relative\/flags': expected an absolute path$/));
});

test('a file others can write, a link, or a non-regular file is refused', () => {
  const writable = flagsFile('--allow_privileged=false\n', 0o664);
  assert.throws(() => readFlagsFile(writable, true, UID), configError(new RegExp(`^Refusing flags file '${writable}': it is writable by group or others \\(mode 0664\\); expected at most 0644`)));
  const worldWritable = flagsFile('--allow_privileged=false\n', 0o646);
  assert.throws(() => readFlagsFile(worldWritable, true, UID), configError(/writable by group or others \(mode 0646\)/));
  assert.equal(readFlagsFile(flagsFile('--quiet\n', 0o600), true, UID), '--quiet\n');

  const link = join(dir, 'link');
  symlinkSync(flagsFile('--quiet\n'), link);
  assert.throws(() => readFlagsFile(link, true, UID), configError(new RegExp(`^Refusing flags file '${link}': it is a symbolic link; expected a regular file$`)));
  // A link is refused even at the default path, where a missing file would be fine.
  assert.throws(() => readFlagsFile(link, false, UID), configError(/symbolic link/));

  const directory = join(dir, 'a-directory');
  mkdirSync(directory);
  assert.throws(() => readFlagsFile(directory, true, UID), configError(/it is not a regular file$/));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => readFlagsFile(fifo, true, UID), configError(/it is not a regular file$/), 'a FIFO does not hang the executor');
});

test('a file owned by another user is refused; root or the executor uid is accepted', () => {
  const path = flagsFile('--quiet\n');
  assert.equal(readFlagsFile(path, true, UID), '--quiet\n', 'owned by the executor uid');
  if (UID === 0) assert.equal(readFlagsFile(path, true, 4321), '--quiet\n', 'root-owned is accepted whatever the executor uid');
  else assert.throws(() => readFlagsFile(path, true, UID + 1000), configError(/owned by uid/));
});

test('a file owned by someone else is refused', { skip: UID !== 0 && 'needs root to chown' }, () => {
  const path = flagsFile('--quiet\n');
  chownSync(path, 4321, 4321);
  assert.throws(() => readFlagsFile(path, true, 0), configError(new RegExp(`^Refusing flags file '${path}': it is owned by uid 4321; expected root or the executor's uid 0$`)));
  assert.equal(readFlagsFile(path, true, 4321), '--quiet\n', 'the executor running as that uid may own it');
});

test('bad lines name the file and the line, never the value', () => {
  const specs = [{ name: 'quiet', kind: 'bool', help: '' }, { name: 'docker_config', kind: 'string', help: '' }, { name: 'flags_file', kind: 'string', help: '' }] as const;
  const cases: Array<[string, RegExp]> = [
    ['--quiet\n--nope=1', /^In flags file '\/f' line 2: Unknown flag '--nope'/],
    ['# c\nquiet=true', /^In flags file '\/f' line 2: expected --name=value or a # comment$/],
    ['{"auths":"secret-token"}', /^In flags file '\/f' line 1: expected --name=value or a # comment$/],
    ['--docker_config', /^In flags file '\/f' line 1: Flag '--docker_config' needs a value/],
    ['--quiet\n--quiet=false', /^In flags file '\/f' line 2: flag '--quiet' was given more than once$/],
    ['--flags_file=/other', /^In flags file '\/f' line 1: --flags_file can only be given on the command line$/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseFlagsText('/f', text, specs), configError(message), text);
    assert.throws(() => parseFlagsText('/f', text, specs), (error: Error) => !error.message.includes('secret-token'));
  }
  assert.deepEqual(parseFlagsText('/f', '# only comments\n\n', specs), new Map());
});
