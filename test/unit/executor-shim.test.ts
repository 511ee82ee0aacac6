// The agent-facing shim, generated as the build writes it, run by the kernel with a hostile
// environment in front of a tiny entry that reports what Node received.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AGENT_ENVIRONMENT, NODE_FLAGS, shimScript, TRUSTED_PATH } from '../../scripts/executor-shim.mjs';
import { TRUSTED_PATH as HELPER_PATH } from '../../src/checks/helper-programs.js';

const ROOT = join(import.meta.dirname, '../..');
const TOKEN = 'token-that-must-stay-off-argv';
const CONTRACT = { MESOS_FRAMEWORK_ID: 'framework-1', MESOS_EXECUTOR_ID: 'executor-1', MESOS_EXECUTOR_AUTHENTICATION_TOKEN: TOKEN };

interface Report {
  readonly argv: string[];
  readonly execArgv: string[];
  readonly env: Record<string, string>;
}

interface Install {
  readonly dir: string;
  readonly shim: string;
  // Where a program that ran writes its name.
  readonly canaries: string;
  // Holds a fake of every program the shim could run, each writing a canary.
  readonly fakes: string;
}

function install(t: TestContext, nodePath = process.execPath): Install {
  const base = mkdtempSync(join(tmpdir(), 'executor-shim-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'dist');
  const canaries = join(base, 'canaries');
  const fakes = join(base, 'fakes');
  for (const path of [dir, canaries, fakes]) mkdirSync(path);
  const shim = join(dir, 'mesos-docker-executor');
  writeFileSync(shim, shimScript({ nodePath }), { mode: 0o755 });
  writeFileSync(join(dir, 'executor.js'), 'process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), execArgv: process.execArgv, env: process.env }));\n');
  for (const name of ['node', 'env', 'sed', 'tr', 'readlink', 'sh', 'bash', 'dash']) {
    writeFileSync(join(fakes, name), `#!/bin/sh\necho ran > '${canaries}/${name}'\n`, { mode: 0o755 });
  }
  writeFileSync(join(fakes, 'payload.cjs'), `require('node:fs').writeFileSync('${canaries}/node-options', 'ran');\n`);
  return { dir, shim, canaries, fakes };
}

function hostileEnvironment(setup: Install): Record<string, string> {
  return {
    ...CONTRACT,
    PATH: `${setup.fakes}:${TRUSTED_PATH}`,
    NODE_OPTIONS: `--require=${setup.fakes}/payload.cjs`,
    NODE_PATH: setup.fakes,
    LD_LIBRARY_PATH: setup.fakes,
    LD_PRELOAD: `${setup.fakes}/missing.so`,
    IFS: '/-',
    ENV: `${setup.fakes}/sh`,
    BASH_ENV: `${setup.fakes}/sh`,
    CDPATH: setup.fakes,
    SHELLOPTS: 'xtrace:nounset',
    PS4: `$(${setup.fakes}/sh)`,
    POSIXLY_CORRECT: '1',
    'BASH_FUNC_echo%%': `() { ${setup.fakes}/sh; }`,
    'A-B': 'not an identifier',
    'NAME\nNODE_OPTIONS': 'a name with a newline',
    VALUE_WITH_LINES: `x\nNODE_OPTIONS=--require=${setup.fakes}/payload.cjs\nPATH=${setup.fakes}`,
    '': 'an empty name',
    TASK_VARIABLE: 'from the task',
    // Dropped too: the code does not read them.
    LIBPROCESS_IP: '127.0.0.1',
    MESOS_HTTP_COMMAND_EXECUTOR: '0',
  };
}

function run(command: string, args: readonly string[], env: Record<string, string>): { report: Report; stderr: string } {
  const result = spawnSync(command, args, { env, encoding: 'utf8' });
  assert.equal(result.status, 0, `exit status ${result.status}, stderr: ${result.stderr}`);
  return { report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

function assertClean(report: Report, setup: Install, args: readonly string[]): void {
  assert.deepEqual(report.env, { ...CONTRACT, PATH: TRUSTED_PATH });
  assert.deepEqual(report.execArgv, NODE_FLAGS);
  assert.deepEqual(report.argv, [join(setup.dir, 'executor.js'), ...args]);
  assert.deepEqual(readdirSync(setup.canaries), [], 'no fake program and no NODE_OPTIONS payload ran');
}

const ARGS = ['--container=mesos-1', '--sandbox_directory=/tmp/a b', '--docker=$(id)'];

test('through a link, only the contract and the fixed PATH reach Node, with the argv as given', (t) => {
  const setup = install(t);
  const link = join(setup.fakes, 'launcher-dir-link');
  symlinkSync(setup.shim, link);
  const { report } = run(link, ARGS, hostileEnvironment(setup));
  assertClean(report, setup, ARGS);
});

test('a bash standing in as /bin/sh is held to the same: no SHELLOPTS, functions or ENV', (t) => {
  const setup = install(t);
  const shell = join(setup.fakes, 'bin');
  mkdirSync(shell);
  // Named sh, bash runs in POSIX mode as it does where /bin/sh is bash; the #! line keeps its flags.
  symlinkSync('/bin/bash', join(shell, 'sh'));
  const script = readFileSync(setup.shim, 'utf8');
  assert.ok(script.startsWith('#!/bin/sh '));
  writeFileSync(setup.shim, script.replace('#!/bin/sh ', `#!${shell}/sh `));
  const { report, stderr } = run(setup.shim, ARGS, hostileEnvironment(setup));
  assertClean(report, setup, ARGS);
  assert.doesNotMatch(stderr, /^\+/m, 'no xtrace from SHELLOPTS');
});

test('a UTF-8 locale and an invalid byte cannot cut a name short', (t) => {
  const setup = install(t);
  // Raw bytes cannot pass through a JavaScript string: the shell puts \377 into the value.
  const result = spawnSync('/bin/sh', ['-c', 'NODE_OPTIONS="--title=$(printf "\\377") --require=$1"; export NODE_OPTIONS; exec "$2"', 'sh', `${setup.fakes}/payload.cjs`, setup.shim], {
    env: { ...CONTRACT, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  assertClean(JSON.parse(result.stdout) as Report, setup, []);
});

test('no value, the token included, is on any command line the shim starts', (t) => {
  const strace = '/usr/bin/strace';
  if (!existsSync(strace)) return t.skip('strace is not installed');
  const setup = install(t);
  const result = spawnSync(strace, ['-f', '-qq', '-s', '65536', '-e', 'trace=execve', setup.shim, '--x=1'], { env: hostileEnvironment(setup), encoding: 'utf8' });
  if (/PTRACE|Operation not permitted/.test(result.stderr) && result.status !== 0) return t.skip('ptrace is not permitted here');
  const execs = result.stderr.split('\n').filter((line) => line.includes('execve('));
  assert.ok(execs.some((line) => line.includes(`"${process.execPath}", ${NODE_FLAGS.map((flag) => `"${flag}", `).join('')}"${join(setup.dir, 'executor.js')}", "--x=1"`)), `node was run by absolute path:\n${execs.join('\n')}`);
  assert.ok(execs.length >= 4, 'every execve was traced');
  for (const value of [TOKEN, 'framework-1', 'from the task']) {
    assert.ok(execs.every((line) => !line.includes(value)), `'${value}' is on no command line`);
  }
});

test("the shim's own programs start without the loader's variables, and node with the contract only", (t) => {
  const strace = '/usr/bin/strace';
  if (!existsSync(strace)) return t.skip('strace is not installed');
  const setup = install(t);
  const env = { ...hostileEnvironment(setup), GCONV_PATH: setup.fakes, LD_AUDIT: `${setup.fakes}/missing.so`, GLIBC_TUNABLES: 'glibc.malloc.check=3' };
  const result = spawnSync(strace, ['-f', '-qq', '-v', '-s', '65536', '-e', 'trace=execve', setup.shim], { env, encoding: 'utf8' });
  if (/PTRACE|Operation not permitted/.test(result.stderr) && result.status !== 0) return t.skip('ptrace is not permitted here');
  // The first execve is the shim itself, started with everything.
  const children = result.stderr.split('\n').filter((line) => line.includes('execve(')).slice(1);
  assert.ok(children.length >= 4, result.stderr);
  for (const line of children) {
    for (const name of ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'GCONV_PATH', 'GLIBC_TUNABLES']) {
      assert.ok(!line.includes(`"${name}=`), `${name} is not passed on: ${line}`);
    }
  }
  const node = children.find((line) => line.includes(`execve("${process.execPath}"`));
  assert.ok(node, 'node was run by absolute path');
  const names = [...node.slice(node.indexOf("], [") + 3).matchAll(/(?:\[|, )"([^"=]*)=/g)].map((match) => match[1]).sort();
  assert.deepEqual(names, Object.keys({ ...CONTRACT, PATH: '' }).sort());
});

test('a missing node or executor.js is named, and nothing runs', (t) => {
  const setup = install(t, '/nonexistent/bin/node');
  const missingNode = spawnSync(setup.shim, [], { env: CONTRACT, encoding: 'utf8' });
  assert.equal(missingNode.status, 1);
  assert.equal(missingNode.stdout, '');
  assert.equal(missingNode.stderr, `mesos-docker-executor: no Node at /nonexistent/bin/node: edit the node= line of ${setup.shim}\n`);

  const other = install(t);
  rmSync(join(other.dir, 'executor.js'));
  const missingEntry = spawnSync(other.shim, [], { env: CONTRACT, encoding: 'utf8' });
  assert.equal(missingEntry.status, 1);
  assert.equal(missingEntry.stderr, `mesos-docker-executor: no ${other.dir}/executor.js beside ${other.shim}\n`);
});

test('the build refuses a Node path the shim could not use safely', () => {
  assert.throws(() => shimScript({ nodePath: 'node' }), /Cannot use Node at 'node' in the shim: expected an absolute path/);
  assert.throws(() => shimScript({ nodePath: '/opt/a=b/node' }), /expected an absolute path without '=' or a newline/);
});

test('the allow-list is exactly the environment the executor reads, and the PATH is the helpers\' PATH', () => {
  const read = new Set<string>();
  const sources = ['src/config', 'src/executor'].flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => join(ROOT, dir, name)));
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9_]*)|\w+\(env, '([A-Z][A-Z0-9_]*)'/g)) read.add(match[1] ?? match[2]!);
  }
  assert.deepEqual([...read].sort(), [...AGENT_ENVIRONMENT].sort());
  assert.equal(TRUSTED_PATH, HELPER_PATH);
});

test('the build writes dist/mesos-docker-executor beside executor.js, mode 0755, naming an absolute node', (t) => {
  const built = join(ROOT, 'dist/mesos-docker-executor');
  if (!existsSync(built)) return t.skip('not built: npm run build');
  assert.equal(statSync(built).mode & 0o777, 0o755);
  const node = /^node='(\/[^']+)'$/m.exec(readFileSync(built, 'utf8'))?.[1];
  assert.ok(node, 'a node= line with an absolute path');
  assert.equal(readFileSync(built, 'utf8'), shimScript({ nodePath: node }));
  assert.ok(existsSync(join(ROOT, 'dist/executor.js')));
});

test("Node's warnings become the executor's log lines, never bare lines on the stderr the container shares", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'node-warnings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'warn.ts');
  writeFileSync(script, `import { logNodeWarnings } from ${JSON.stringify(join(import.meta.dirname, '../../src/executor/node-warnings.ts'))};
logNodeWarnings((line) => process.stderr.write('EXECUTOR ' + line + '\\n'));
process.emitWarning('a warning');
process.emitWarning('an old way', 'DeprecationWarning', 'DEP0999');
`);
  const started = spawnSync(process.execPath, [...NODE_FLAGS, '--import', 'tsx', script], { encoding: 'utf8' });
  assert.equal(started.status, 0, started.stderr);
  const lines = started.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, started.stderr);
  assert.ok(lines.every((line) => line.startsWith('EXECUTOR Node: ')), started.stderr);
});
