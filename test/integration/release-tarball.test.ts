// The release as an operator gets it: `npm pack` (its prepack builds dist/) run on a copy of this
// checkout, so that the dist/ the other tests use is never rebuilt under them. The tarball holds
// only what an agent host needs; unpacked where no node_modules is in reach, its shim and local
// agent run and run a task against the real engine; scripts/install-executor.sh records the host's
// Node in the shim it installs and refuses a Node or a directory that someone other than root can
// write.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { decodeJsonValue } from '../../src/protocol/codec.js';
import { parseJsonTolerant } from '../../src/protocol/mesos-json.js';
import { stateName } from '../../src/executor/task-states.js';

const REPO = resolve(import.meta.dirname, '../..');
const TRUSTED_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// What an operator's shell would pass, without anything of this test run's environment.
const CLEAN_ENV = { PATH: TRUSTED_PATH, HOME: '/root', LANG: 'C' };

interface PackedFile { path: string; size: number; mode: number }
let checkout: string;
let tarball: string;
let packed: PackedFile[];
let unpacked: string;

const scratchDirs: string[] = [];
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}
after(() => scratchDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

before(async () => {
  checkout = scratch('release-checkout-');
  const { stdout } = await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO });
  for (const file of stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(REPO, file))) continue; // deleted in the work tree
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    cpSync(join(REPO, file), join(checkout, file), { verbatimSymlinks: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'));

  const out = scratch('release-out-');
  const { SHIM_NODE_PATH: _ignored, ...env } = process.env;
  const pack = await execa('npm', ['pack', '--json', `--pack-destination=${out}`], {
    cwd: checkout,
    env: { ...env, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false' },
    extendEnv: false,
    timeout: 300_000,
  });
  const [report] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: PackedFile[] }>;
  tarball = join(out, report!.filename);
  packed = report!.files;

  unpacked = scratch('release-unpacked-');
  await execa('tar', ['-xzf', tarball, '-C', unpacked]);
});

test('the tarball holds the bundles, the shim, the installer, docs and examples, and no source, test, map or node_modules', () => {
  const paths = packed.map((file) => file.path).sort();
  for (const needed of ['README.md', 'package.json', 'dist/executor.js', 'dist/agent.js', 'dist/logrotate.js', 'dist/mesos-docker-executor',
    'scripts/install-executor.sh', 'docs/shim.md', 'examples/hello-task.json', 'examples/custom-executor-task.json', 'examples/docker-task.json']) {
    assert.ok(paths.includes(needed), `${needed} is in the tarball: ${paths.join(', ')}`);
  }
  const allowed = /^(README\.md|LICENSE|package\.json|dist\/(executor|agent|logrotate)\.js|dist\/mesos-docker-executor|scripts\/install-executor\.sh|docs\/[\w-]+\.(md|png)|examples\/[\w-]+\.json)$/;
  assert.deepEqual(paths.filter((path) => !allowed.test(path)), [], 'nothing else: no src/, test/, node_modules/, .map or .ts');
  const mode = (path: string) => packed.find((file) => file.path === path)!.mode & 0o777;
  assert.equal(mode('dist/mesos-docker-executor'), 0o755);
  assert.equal(mode('scripts/install-executor.sh'), 0o755);
  assert.equal(mode('dist/executor.js'), 0o644);
});

test('the bundles name no path of the machine that built them; the shim names only its Node', () => {
  for (const file of ['dist/executor.js', 'dist/agent.js', 'dist/logrotate.js', 'dist/mesos-docker-executor']) {
    const text = readFileSync(join(unpacked, 'package', file), 'utf8');
    for (const local of [checkout, realpathSync(checkout), REPO]) {
      assert.ok(!text.includes(local), `${file} holds ${local}`);
    }
  }
  const shim = readFileSync(join(unpacked, 'package/dist/mesos-docker-executor'), 'utf8');
  assert.deepEqual(shim.match(/^node=.*$/gm), [`node='${process.execPath}'`]);
});

test('unpacked with no node_modules in reach, the shim and the local agent run from any directory', async () => {
  for (let dir = unpacked; dir !== '/'; dir = dirname(dir)) {
    assert.ok(!existsSync(join(dir, 'node_modules')), `no node_modules in ${dir}`);
  }
  const shim = await execa(join(unpacked, 'package/dist/mesos-docker-executor'), ['--help'], { cwd: '/', env: {}, extendEnv: false, reject: false });
  assert.equal(shim.exitCode, 0, shim.stderr);
  assert.match(shim.stdout, /^Usage: node dist\/executor\.js/);
  const agent = await execa(process.execPath, [join(unpacked, 'package/dist/agent.js'), '--help'], { cwd: '/', env: CLEAN_ENV, extendEnv: false, reject: false });
  assert.equal(agent.exitCode, 0, agent.stderr);
  assert.match(agent.stdout, /^Usage: node dist\/agent\.js run/);
});

test('the unpacked local agent runs the packaged example task through the packaged shim and rotating logger against the real engine', async () => {
  const workDir = scratch('release-agent-');
  const run = await execa(process.execPath, [
    join(unpacked, 'package/dist/agent.js'), 'run', join(unpacked, 'package/examples/hello-task.json'),
    '--json_updates', `--work_dir=${workDir}`, '--container_logger=rotate', '--logrotate_stdout_options=rotate 2',
  ], { cwd: '/', env: CLEAN_ENV, extendEnv: false, reject: false, timeout: 180_000 });
  assert.equal(run.exitCode, 0, run.stderr);
  const states = run.stdout.trim().split('\n').map((line) => stateName(decodeJsonValue('mesos.v1.TaskStatus', parseJsonTolerant(line)).state));
  assert.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.match(run.stderr, /Hello from mesos-[0-9a-f-]+, sandbox mounted at \/mnt\/mesos\/sandbox/);
});

// A copy of the unpacked release whose shim names a Node this host does not have, as when the
// tarball was built on another machine.
function releaseBuiltElsewhere(): string {
  const copy = scratch('release-elsewhere-');
  cpSync(join(unpacked, 'package'), copy, { recursive: true });
  const shimPath = join(copy, 'dist/mesos-docker-executor');
  writeFileSync(shimPath, readFileSync(shimPath, 'utf8').replace(/^node=.*$/m, "node='/nonexistent/bin/node'"));
  return copy;
}

function install(release: string, ...args: string[]) {
  return execa('sh', [join(release, 'scripts/install-executor.sh'), ...args], { env: CLEAN_ENV, extendEnv: false, reject: false });
}

test('install-executor.sh records this host\'s Node in a root-owned copy that runs, also through a link in a launcher_dir', async () => {
  const release = releaseBuiltElsewhere();
  const stale = await execa(join(release, 'dist/mesos-docker-executor'), ['--help'], { env: {}, extendEnv: false, reject: false });
  assert.equal(stale.exitCode, 1);
  assert.match(stale.stderr, /no Node at \/nonexistent\/bin\/node/);

  // The Node is named through a link, as /usr/bin/node often is; the real file is recorded.
  const links = scratch('release-node-link-');
  symlinkSync(process.execPath, join(links, 'node'));
  const prefix = join(scratch('release-prefix-'), 'opt/mesos-docker-executor');
  const result = await install(release, `--prefix=${prefix}`, `--node=${join(links, 'node')}`);
  assert.equal(result.exitCode, 0, result.stderr);
  const node = realpathSync(process.execPath);
  assert.equal(result.stdout, `installed ${prefix}/mesos-docker-executor (runs ${node}, Node ${process.versions.node.split('.')[0]})`);

  assert.deepEqual(readdirSync(prefix).sort(), ['agent.js', 'executor.js', 'mesos-docker-executor', 'package.json']);
  for (const [name, mode] of [['mesos-docker-executor', 0o755], ['executor.js', 0o644], ['agent.js', 0o644], ['package.json', 0o644], ['', 0o755]] as const) {
    const stat = statSync(join(prefix, name));
    assert.equal(stat.uid, 0, `${name || prefix} is root's`);
    assert.equal(stat.mode & 0o7777, mode, `${name || prefix} mode`);
  }
  // The bundles load as ES modules at once, not after a failed try as CommonJS.
  assert.deepEqual(JSON.parse(readFileSync(join(prefix, 'package.json'), 'utf8')), { type: 'module' });
  const installed = readFileSync(join(prefix, 'mesos-docker-executor'), 'utf8');
  assert.deepEqual(installed.match(/^node=.*$/gm), [`node='${node}'`]);
  assert.equal(installed.replace(/^node=.*$/m, ''), readFileSync(join(release, 'dist/mesos-docker-executor'), 'utf8').replace(/^node=.*$/m, ''),
    'only the node= line changes');

  // Recipe (b): the agent runs <launcher_dir>/mesos-docker-executor, here a link to the install.
  const launcherDir = scratch('release-launcher-');
  symlinkSync(join(prefix, 'mesos-docker-executor'), join(launcherDir, 'mesos-docker-executor'));
  const viaLink = await execa(join(launcherDir, 'mesos-docker-executor'), ['--help'], { cwd: '/', env: {}, extendEnv: false, reject: false });
  assert.equal(viaLink.exitCode, 0, viaLink.stderr);
  assert.match(viaLink.stdout, /^Usage: node dist\/executor\.js/);

  // Installing again replaces the files in place.
  const again = await install(release, `--prefix=${prefix}`, `--node=${node}`);
  assert.equal(again.exitCode, 0, again.stderr);
  assert.deepEqual(readdirSync(prefix).sort(), ['agent.js', 'executor.js', 'mesos-docker-executor', 'package.json']);
});

test('install-executor.sh refuses a Node or a prefix that someone other than root can replace, and bad arguments, in one line', async () => {
  const release = releaseBuiltElsewhere();
  const open = scratch('release-open-');
  chmodSync(open, 0o777);
  const openNode = join(open, 'node');
  cpSync(join(release, 'scripts/install-executor.sh'), openNode); // any executable file: refused before it runs
  chmodSync(openNode, 0o755);
  const userOwned = scratch('release-user-');
  const userNode = join(userOwned, 'node');
  cpSync(openNode, userNode);
  chownSync(userNode, 65534, 65534);

  const prefix = join(scratch('release-prefix-'), 'x');
  const cases: Array<[string[], RegExp]> = [
    [[`--node=${openNode}`], new RegExp(`^install-executor: Node: ${open} is writable by others \\(mode 777\\): expected only root to write it$`)],
    [[`--node=${userNode}`], new RegExp(`^install-executor: Node: ${userNode} is owned by uid 65534: expected root$`)],
    [['--node=node'], /^install-executor: --node 'node': expected an absolute path$/],
    [['--node=/nonexistent/node'], /^install-executor: --node '\/nonexistent\/node' does not exist$/],
    [[`--node=${userOwned}`], new RegExp(`^install-executor: Node at '${userOwned}' is not an executable file$`)],
    [[`--prefix=${join(open, 'opt')}`], new RegExp(`^install-executor: --prefix: ${open} is writable by others \\(mode 777\\): expected only root to write it$`)],
    [['--prefix=opt'], /^install-executor: --prefix 'opt': expected an absolute path$/],
    [['--launcher-dir=/usr/libexec/mesos'], /^install-executor: unknown argument '--launcher-dir=\/usr\/libexec\/mesos': expected/],
  ];
  for (const [args, message] of cases) {
    const result = await install(release, ...(args.some((arg) => arg.startsWith('--prefix')) ? args : [`--prefix=${prefix}`, ...args]));
    assert.equal(result.exitCode, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.equal(result.stderr.split('\n').length, 1, 'one line');
    assert.equal(result.stdout, '');
  }
  assert.ok(!existsSync(prefix), 'nothing installed');
  assert.ok(!existsSync(join(open, 'opt')), 'nothing created under a directory others can write');
});

test('SHIM_NODE_PATH sets the Node a release\'s shim runs; a relative one stops the build with one line', async () => {
  const build = (nodePath: string) => execa(process.execPath, ['scripts/build.mjs'], {
    cwd: checkout, env: { ...CLEAN_ENV, SHIM_NODE_PATH: nodePath }, extendEnv: false, reject: false, timeout: 300_000,
  });
  const good = await build('/usr/local/lib/nodejs/bin/node');
  assert.equal(good.exitCode, 0, good.stderr);
  assert.deepEqual(readFileSync(join(checkout, 'dist/mesos-docker-executor'), 'utf8').match(/^node=.*$/gm), ["node='/usr/local/lib/nodejs/bin/node'"]);

  const bad = await build('bin/node');
  assert.equal(bad.exitCode, 1);
  assert.equal(bad.stderr, "build: Cannot use Node at 'bin/node' in the shim: expected an absolute path without '=' or a newline (SHIM_NODE_PATH names the Node the shim runs)");
  assert.deepEqual(readFileSync(join(checkout, 'dist/mesos-docker-executor'), 'utf8').match(/^node=.*$/gm), ["node='/usr/local/lib/nodejs/bin/node'"], 'the shim is left as it was');
});
