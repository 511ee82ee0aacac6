// The fetcher as the local agent runs it: every URI of the task fetched into the sandbox before
// the executor starts, each archive kind extracted and read by the container, and every failure
// (an HTTP error, an unreachable host, an oversized download, a hostile archive) ending the task
// TASK_FAILED from the agent before any executor or container exists. HTTP is served by the test
// on 127.0.0.1; archives are built here with Debian's tar, bzip2, xz and zip and Node's zlib.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ContainerLaunchError, type ExecutorRecord, type LocalAgent, type ReceivedUpdate } from '../../src/agent/local-agent.js';
import type { FetchEvent } from '../../src/fetcher/fetcher.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { containerExists, exitCode, removeImage, sandboxFile, shellTask, startAgent, states, terminal, type AgentOverrides } from '../helpers/harness.js';
import { closedPort, serveFiles } from '../helpers/file-server.js';
import { REGISTRY } from '../helpers/registry.js';
import { buildTar } from '../helpers/tar-builder.js';

const { TaskState } = mesos.v1;
const { Reason, Source } = mesos.v1.TaskStatus;
const PASSWORD = 'pw-S3cret-fetch';

function taskWithUris(command: string, uris: mesos.v1.CommandInfo.IURI[]): mesos.v1.TaskInfo {
  const task = shellTask(command);
  task.command!.uris = uris.map((uri) => mesos.v1.CommandInfo.URI.fromObject(uri));
  return task;
}

// One archive of each kind, each holding <kind>/x.txt with its kind's name, built by the tools.
function buildArchives(): Record<string, Buffer> {
  const work = mkdtempSync(join(tmpdir(), 'fetch-archives-'));
  const run = (program: string, args: string[]): void => {
    execFileSync(program, args, { cwd: work, env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'inherit'] });
  };
  const kinds: Array<[string, string, string[]]> = [
    ['a.tar', 'from-tar', ['-cf']],
    ['a.tar.gz', 'from-tgz', ['-czf']],
    ['a.tbz2', 'from-tbz2', ['-cjf']],
    ['a.tar.xz', 'from-txz', ['-cJf']],
  ];
  const archives: Record<string, Buffer> = {};
  for (const [file, dir, flags] of kinds) {
    mkdirSync(join(work, dir));
    writeFileSync(join(work, dir, 'x.txt'), `${dir}\n`);
    run('/usr/bin/tar', [...flags, file, dir]);
    archives[file] = readFileSync(join(work, file));
  }
  mkdirSync(join(work, 'from-zip'));
  writeFileSync(join(work, 'from-zip', 'x.txt'), 'from-zip\n');
  run('/usr/bin/zip', ['-qr', 'a.zip', 'from-zip']);
  archives['a.zip'] = readFileSync(join(work, 'a.zip'));
  archives['notes.txt.gz'] = gzipSync('from-gz\n');
  return archives;
}

// What a failed fetch must look like: the agent's own TASK_FAILED, no executor, no container.
async function assertFetchFailure(agent: LocalAgent, task: mesos.v1.TaskInfo, why: RegExp): Promise<{ update: ReceivedUpdate; sandbox: string }> {
  let launched = false;
  agent.once('launched', () => {
    launched = true;
  });
  const error = await agent.launchTask(task).then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof ContainerLaunchError, `expected a ContainerLaunchError, got ${String(error)}`);
  const failure = error.launch;
  assert.equal(failure.updates.length, 1);
  const update = failure.updates[0]!;
  const status = update.status;
  assert.equal(status.state, TaskState.TASK_FAILED);
  assert.equal(status.source, Source.SOURCE_AGENT);
  assert.equal(status.reason, Reason.REASON_CONTAINER_LAUNCH_FAILED);
  assert.equal(status.task_id?.value, task.task_id!.value);
  assert.equal(status.executor_id?.value, task.task_id!.value);
  assert.equal(status.uuid?.length, 16);
  const prefix = `Failed to launch container: Failed to fetch all URIs for container '${failure.containerId}': Failed to fetch '`;
  assert.ok(status.message!.startsWith(prefix), status.message!);
  assert.match(status.message!, why);
  assert.equal(launched, false, 'no executor was launched');
  assert.ok(!existsSync(join(failure.sandbox, 'stdout')) && !existsSync(join(failure.sandbox, 'stderr')), 'the executor never ran in the sandbox');
  assert.equal(await containerExists(failure.containerName), false);
  return { update, sandbox: failure.sandbox };
}

async function finished(agent: LocalAgent, record: ExecutorRecord): Promise<void> {
  const last = await terminal(agent, record, 90_000);
  assert.equal(last.status.state, TaskState.TASK_FINISHED, `${last.status.message ?? ''}\n${sandboxFile(record, 'stderr')}`);
  assert.equal(await exitCode(record), 0);
}

function statusText(status: mesos.v1.ITaskStatus): string {
  return JSON.stringify(mesos.v1.TaskStatus.toObject(mesos.v1.TaskStatus.fromObject(status)));
}

function collectFetchEvents(agent: LocalAgent): string[] {
  const lines: string[] = [];
  agent.on('fetch', (_id: string, event: FetchEvent) => lines.push(JSON.stringify(event)));
  return lines;
}

async function agentWith(t: TestContext, overrides: AgentOverrides = {}): Promise<LocalAgent> {
  return startAgent(t, overrides);
}

test('each archive kind is extracted into the sandbox and read by the container; executable and output_file are honoured', async (t) => {
  const archives = buildArchives();
  const server = await serveFiles(t, {
    ...Object.fromEntries(Object.entries(archives).map(([name, body]) => [`/files/${name}`, body])),
    '/private/run.sh': { body: '#!/bin/sh\necho "run.sh ran"\n', credentials: `fetch:${PASSWORD}` },
    '/files/settings': 'setting=1\n',
  });
  const local = join(mkdtempSync(join(tmpdir(), 'fetch-local-')), 'local.tgz');
  writeFileSync(local, archives['a.tar.gz']!);
  const agent = await agentWith(t);
  const events = collectFetchEvents(agent);
  const files = `${server.origin}/files`;
  const task = taskWithUris(
    'cd "$MESOS_SANDBOX" && cat from-tar/x.txt from-tgz/x.txt from-tbz2/x.txt from-txz/x.txt from-zip/x.txt notes.txt conf/settings.ini && '
      + 'test -x run.sh && ./run.sh && test ! -e from-plain && test -f not-extracted.tar.gz && echo done',
    [
      { value: `${files}/a.tar` },
      { value: `${files}/a.tar.gz` },
      { value: `${files}/a.tbz2` },
      { value: `${files}/a.tar.xz` },
      { value: `${files}/a.zip` },
      { value: `${files}/notes.txt.gz` },
      { value: `http://fetch:${PASSWORD}@127.0.0.1:${server.port}/private/run.sh`, executable: true },
      { value: `${files}/settings`, output_file: 'conf/settings.ini' },
      { value: `file://${local}`, extract: false, output_file: 'not-extracted.tar.gz' },
    ],
  );
  const record = await agent.launchTask(task);
  await finished(agent, record);
  assert.equal(sandboxFile(record, 'stdout'), 'from-tar\nfrom-tgz\nfrom-tbz2\nfrom-txz\nfrom-zip\nfrom-gz\nsetting=1\nrun.sh ran\ndone\n');
  assert.deepEqual(server.authorizations, [`Basic ${Buffer.from(`fetch:${PASSWORD}`).toString('base64')}`], 'credentials sent to their own URI only');
  // The password is in no update, no fetch event and no line of the executor's log.
  const texts = [...record.updates.map((update) => statusText(update.status)), ...events, sandboxFile(record, 'stderr')];
  for (const text of texts) assert.ok(!text.includes(PASSWORD), `password shown in: ${text}`);
  assert.ok(events.some((line) => line.includes('http://***@127.0.0.1')), 'the fetch of the private URI is reported, redacted');
});

test('a cache=true URI is fetched once; the second fetch is served from the cache with the server gone', async (t) => {
  const server = await serveFiles(t, { '/cached/tool.sh': '#!/bin/sh\necho cached tool\n' });
  const agent = await agentWith(t);
  const uri = { value: `${server.origin}/cached/tool.sh`, cache: true, executable: true };
  const first = await agent.launchTask(taskWithUris('"$MESOS_SANDBOX/tool.sh"', [uri]));
  await finished(agent, first);
  await server.close();
  const events = collectFetchEvents(agent);
  const second = await agent.launchTask(taskWithUris('"$MESOS_SANDBOX/tool.sh"', [uri]));
  await finished(agent, second);
  assert.equal(sandboxFile(second, 'stdout'), 'cached tool\n');
  assert.deepEqual(server.requests, ['/cached/tool.sh']);
  assert.ok(events.some((line) => line.includes('"cache":"hit"')), events.join('\n'));
});

test('a 404, with credentials in the URI, fails the task before any container exists; the credentials are redacted', async (t) => {
  const server = await serveFiles(t, {});
  const agent = await agentWith(t);
  const uri = `http://alice:${PASSWORD}@127.0.0.1:${server.port}/missing.tgz`;
  const { update } = await assertFetchFailure(agent, taskWithUris('true', [{ value: uri }]),
    new RegExp(`'http://\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/missing\\.tgz': the server answered HTTP 404 Not Found$`));
  assert.ok(!statusText(update.status).includes(PASSWORD));
  assert.ok(!statusText(update.status).includes('alice'));
});

test('an unreachable host fails the task before any container exists', async (t) => {
  const agent = await agentWith(t);
  const port = await closedPort();
  await assertFetchFailure(agent, taskWithUris('true', [{ value: `http://127.0.0.1:${port}/a.tgz` }]), new RegExp(`connection to 127\\.0\\.0\\.1:${port} refused$`));
});

test('an oversized download fails the task, whether or not the server announces the size', async (t) => {
  const server = await serveFiles(t, {
    '/big': Buffer.alloc(8192, 1),
    '/big-chunked': { body: Buffer.alloc(8192, 1), chunked: true },
  });
  const agent = await agentWith(t, { fetcher: { maxBytes: 4096 } });
  await assertFetchFailure(agent, taskWithUris('true', [{ value: `${server.origin}/big` }]), /it is 8192 bytes, over the 4KB bound \(--fetcher_max_size\)$/);
  const { sandbox } = await assertFetchFailure(agent, taskWithUris('true', [{ value: `${server.origin}/big-chunked` }]), /it is larger than the 4KB bound \(--fetcher_max_size\)$/);
  assert.deepEqual(readdirSync(sandbox), [], 'no partial download left');
});

test('archives with ../ entries, absolute entries or links pointing out fail the task and write nothing outside', async (t) => {
  const hostile: Record<string, Buffer> = {
    '/dotdot.tar': buildTar([{ name: 'ok.txt', content: 'ok' }, { name: '../escaped.txt', content: 'escaped' }]),
    '/absolute.tar.gz': gzipSync(buildTar([{ name: '/tmp/fetcher-absolute-escape.txt', content: 'escaped' }])),
    '/symlink.tar': buildTar([{ name: 'out', type: '2', linkname: '../../../../../../etc' }, { name: 'out/pwned', content: 'x' }]),
    '/hardlink.tar': buildTar([{ name: 'shadow', type: '1', linkname: '/etc/shadow' }]),
  };
  const work = mkdtempSync(join(tmpdir(), 'fetch-zip-'));
  execFileSync('/bin/ln', ['-s', '/etc', join(work, 'etc-link')]);
  execFileSync('/usr/bin/zip', ['-qy', 'link.zip', 'etc-link'], { cwd: work, env: { PATH: '/usr/bin:/bin' } });
  hostile['/symlink.zip'] = readFileSync(join(work, 'link.zip'));
  const server = await serveFiles(t, hostile);
  const agent = await agentWith(t);
  const cases: Array<[string, RegExp]> = [
    ['/dotdot.tar', /archive entry '\.\.\/escaped\.txt' has a '\.\.' component; refusing to extract it$/],
    ['/absolute.tar.gz', /archive entry '\/tmp\/fetcher-absolute-escape\.txt' is an absolute name; refusing to extract it$/],
    ['/symlink.tar', /archive entry 'out' is a symbolic link to '\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc', which points outside the sandbox; refusing to extract it$/],
    ['/hardlink.tar', /archive entry 'shadow' is a hard link to '\/etc\/shadow', which is not a file inside the sandbox; refusing to extract it$/],
    ['/symlink.zip', /archive entry 'etc-link' is a symbolic link to the absolute path '\/etc'; refusing to extract it$/],
  ];
  for (const [path, why] of cases) {
    const { sandbox } = await assertFetchFailure(agent, taskWithUris('true', [{ value: `${server.origin}${path}` }]), why);
    assert.ok(!existsSync(join(sandbox, '..', 'escaped.txt')), 'nothing written beside the sandbox');
    assert.ok(!readdirSync(sandbox).includes('out'), path);
  }
  assert.ok(!existsSync('/tmp/fetcher-absolute-escape.txt'));
  assert.ok(!existsSync('/etc/pwned'));
});

test('a .docker/config.json fetched by URI pulls a private image', async (t) => {
  const image = `${REGISTRY}/private/busybox:e2e`;
  await removeImage(image);
  const config = JSON.stringify({ auths: { [REGISTRY]: { auth: Buffer.from('testuser:testpassword').toString('base64') } } });
  const server = await serveFiles(t, { '/docker/config.json': config });
  const agent = await agentWith(t);
  const task = taskWithUris('echo pulled with fetched credentials', [{ value: `${server.origin}/docker/config.json`, output_file: '.docker/config.json' }]);
  task.container!.docker!.image = image;
  const record = await agent.launchTask(task);
  await finished(agent, record);
  assert.equal(sandboxFile(record, 'stdout'), 'pulled with fetched credentials\n');
  assert.ok(states(record).includes('TASK_RUNNING'));
  for (const update of record.updates) assert.ok(!(update.status.message ?? '').includes('testpassword'));
});
