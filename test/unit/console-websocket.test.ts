// The console's page and WebSocket protocol on a real HTTP server, with a ws client and an
// in-memory task source whose sandboxes are real directories: the list and its batched changes,
// live output resumed exactly after a reconnect, kills, bad messages, the token, the origin and
// host checks, and a page that stops reading.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { WebSocket } from 'ws';
import { attachConsole, type ConsoleOptions } from '../../src/agent/console/attach-console.js';
import { eventually } from '../helpers/harness.js';
import type { TaskView } from '../../src/agent/serve/console-source.js';
import { MemoryConsoleSource } from '../helpers/memory-console-source.js';

interface Served {
  source: MemoryConsoleSource;
  port: number;
  url: string;
}

async function serve(t: TestContext, options: ConsoleOptions = {}): Promise<Served> {
  const root = mkdtempSync(join(tmpdir(), 'console-ws-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const source = new MemoryConsoleSource(root);
  const server = http.createServer((request, response) => {
    if (!attached.handleRequest(request, response)) response.writeHead(404).end('not the console\n');
  });
  const attached = attachConsole(server, source, options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    attached.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const port = (server.address() as { port: number }).port;
  return { source, port, url: `http://127.0.0.1:${port}` };
}

// A ws client keeping every message, with a bounded wait for the next one that matches.
class Client {
  readonly messages: any[] = [];
  readonly socket: WebSocket;

  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => this.messages.push(JSON.parse(data.toString())));
  }

  static async open(t: TestContext, served: Served, headers: Record<string, string> = {}): Promise<Client> {
    const socket = new WebSocket(`ws://127.0.0.1:${served.port}/console/ws`, { headers });
    t.after(() => socket.terminate());
    // Listening before the socket opens: the list may come in the same packet as the handshake.
    const client = new Client(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  send(message: object): void {
    this.socket.send(JSON.stringify(message));
  }

  async next(what: string, predicate: (message: any) => boolean, timeoutMs = 10_000): Promise<any> {
    return eventually(what, () => this.messages.find(predicate), timeoutMs);
  }

  output(taskId: string, stream = 'stdout'): Buffer {
    return Buffer.concat(this.messages.filter((m) => m.type === 'output' && m.taskId === taskId && m.stream === stream).map((m) => Buffer.from(m.data, 'base64')));
  }
}

// The status of a refused upgrade, or 101 when it was accepted.
function upgradeStatus(served: Served, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${served.port}/console/ws`, { headers });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('open', () => {
      resolve(101);
      socket.terminate();
    });
    socket.on('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

test('a page gets the whole list on connecting, then changes in batches', async (t) => {
  const served = await serve(t, { batchMs: 200 });
  served.source.add('first');
  const client = await Client.open(t, served);
  const full = await client.next('the full list', (m) => m.type === 'tasks' && m.full);
  assert.deepEqual(full.tasks.map((task: TaskView) => task.taskId), ['first']);
  // A hundred tasks, each with a few updates, arrive in one message (a batch), newest state each.
  for (let i = 0; i < 100; i++) served.source.add(`task-${i}`);
  for (let i = 0; i < 100; i++) served.source.update(`task-${i}`, 'TASK_RUNNING', { healthy: true });
  const batch = await client.next('a batch', (m) => m.type === 'tasks' && !m.full);
  const batched = batch.tasks.filter((task: TaskView) => task.taskId.startsWith('task-'));
  assert.equal(batched.length, 100);
  assert.ok(batched.every((task: TaskView & { updateCount: number }) => task.state === 'TASK_RUNNING' && task.healthy === true && task.updateCount === 2));
  assert.equal(client.messages.filter((m) => m.type === 'tasks' && !m.full).length, 1);
});

test('live output arrives as written and resumes after a reconnect from the last byte seen', async (t) => {
  const served = await serve(t);
  const task = served.source.add('talker', 'TASK_RUNNING');
  const stdout = join(task.sandbox, 'stdout');
  writeFileSync(stdout, 'line 1\n');
  const first = await Client.open(t, served);
  first.send({ type: 'follow', taskId: 'talker', stream: 'stdout' });
  await eventually('line 1', () => first.output('talker').toString() === 'line 1\n');
  appendFileSync(stdout, 'line 2\n');
  await eventually('line 2', () => first.output('talker').toString() === 'line 1\nline 2\n');
  const last = first.messages.filter((m) => m.type === 'output').at(-1);
  const seen = { file: last.file, offset: last.offset + Buffer.from(last.data, 'base64').length };
  first.socket.terminate();
  appendFileSync(stdout, 'line 3 (written while away)\n');

  const second = await Client.open(t, served);
  second.send({ type: 'follow', taskId: 'talker', stream: 'stdout', from: seen });
  await eventually('the rest', () => second.output('talker').toString() === 'line 3 (written while away)\n');
  appendFileSync(stdout, 'line 4\n');
  await eventually('line 4', () => second.output('talker').toString().endsWith('line 4\n'));
  assert.equal(second.output('talker').toString(), 'line 3 (written while away)\nline 4\n');
  assert.equal(second.messages.filter((m) => m.type === 'skipped').length, 0);
});

test('stderr is followed on its own, and unfollow stops a tail', async (t) => {
  const served = await serve(t);
  const task = served.source.add('both', 'TASK_RUNNING');
  writeFileSync(join(task.sandbox, 'stdout'), 'out\n');
  writeFileSync(join(task.sandbox, 'stderr'), 'err\n');
  const client = await Client.open(t, served);
  client.send({ type: 'follow', taskId: 'both', stream: 'stderr' });
  await eventually('stderr', () => client.output('both', 'stderr').toString() === 'err\n');
  assert.equal(client.output('both', 'stdout').length, 0);
  client.send({ type: 'unfollow', taskId: 'both', stream: 'stderr' });
  // A marker request after the unfollow: once its answer is back, the unfollow was handled.
  client.send({ type: 'kill', taskId: 'both' });
  await client.next('the kill answer', (m) => m.type === 'killed');
  appendFileSync(join(task.sandbox, 'stderr'), 'more\n');
  client.send({ type: 'follow', taskId: 'both', stream: 'stdout' });
  await eventually('stdout', () => client.output('both', 'stdout').toString() === 'out\n');
  assert.equal(client.output('both', 'stderr').toString(), 'err\n');
});

test('a kill goes to the source with its grace period; an unknown task is refused', async (t) => {
  const served = await serve(t);
  served.source.add('victim', 'TASK_RUNNING');
  const client = await Client.open(t, served);
  client.send({ type: 'kill', taskId: 'victim', gracePeriodMs: 1500 });
  const answer = await client.next('the answer', (m) => m.type === 'killed' && m.taskId === 'victim');
  assert.equal(answer.ok, true);
  assert.deepEqual(served.source.kills, [{ taskId: 'victim', gracePeriodMs: 1500 }]);
  client.send({ type: 'kill', taskId: 'nobody' });
  const refused = await client.next('the refusal', (m) => m.type === 'killed' && m.taskId === 'nobody');
  assert.equal(refused.ok, false);
  assert.equal(served.source.kills.length, 1);
});

test('bad messages get a one-line error and the connection stays usable', async (t) => {
  const served = await serve(t);
  const client = await Client.open(t, served);
  const cases: Array<[string, RegExp]> = [
    ['not json', /one JSON object/],
    [JSON.stringify({ type: 'follow', taskId: 'x', stream: 'stdin' }), /stream must be "stdout" or "stderr", not "stdin"/],
    [JSON.stringify({ type: 'follow', taskId: 'x', stream: 'stdout', from: { file: '../../etc/passwd', offset: 0 } }), /from.file must be a file id/],
    [JSON.stringify({ type: 'follow', taskId: 'x', stream: 'stdout', from: { file: '1:2:3', offset: -4 } }), /from.offset must be a byte offset/],
    [JSON.stringify({ type: 'kill', taskId: 'x', gracePeriodMs: 'soon' }), /gracePeriodMs must be a number/],
    [JSON.stringify({ type: 'launch', taskId: 'x' }), /type must be "follow", "unfollow" or "kill", not "launch"/],
    [JSON.stringify({ type: 'follow', taskId: 'missing', stream: 'stdout' }), /no task missing/],
  ];
  for (const [text, expected] of cases) {
    const before = client.messages.length;
    client.socket.send(text);
    const error = await eventually(`the error for ${text}`, () => client.messages.slice(before).find((m) => m.type === 'error'));
    assert.match(error.message, expected);
    assert.doesNotMatch(error.message, /\n|at .*\.ts/);
  }
});

test('with a token: the page and the socket want it, the query trades it for an HttpOnly SameSite=Strict cookie', async (t) => {
  const token = 'console-token-5e2b';
  const served = await serve(t, { token });
  const page = await fetch(`${served.url}/console`);
  assert.equal(page.status, 401);
  assert.match(await page.text(), /^Unauthorized: open \/console\?token=/);
  assert.equal((await fetch(`${served.url}/console?token=wrong`)).status, 401);

  const traded = await fetch(`${served.url}/console?token=${token}`, { redirect: 'manual' });
  assert.equal(traded.status, 303);
  assert.equal(traded.headers.get('location'), '/console');
  const cookie = traded.headers.get('set-cookie')!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.ok(!cookie.includes(token), 'the cookie holds a value derived from the token, not the token');
  const session = cookie.split(';')[0]!;
  const withCookie = await fetch(`${served.url}/console`, { headers: { cookie: session } });
  assert.equal(withCookie.status, 200);
  assert.match(withCookie.headers.get('content-security-policy')!, /script-src 'sha256-/);
  assert.match(await withCookie.text(), /<title>Local agent console<\/title>/);
  assert.equal((await fetch(`${served.url}/console`, { headers: { authorization: `Bearer ${token}` } })).status, 200);

  assert.equal(await upgradeStatus(served, {}), 401);
  assert.equal(await upgradeStatus(served, { authorization: 'Bearer wrong' }), 401);
  assert.equal(await upgradeStatus(served, { authorization: `Bearer ${token}` }), 101);
  assert.equal(await upgradeStatus(served, { cookie: session, origin: served.url }), 101);
  assert.equal(await upgradeStatus(served, { cookie: `console_session=${'0'.repeat(64)}`, origin: served.url }), 401);
});

test('attack: a cross-site page cannot open the socket, even with the cookie the browser would send', async (t) => {
  const token = 'console-token-77aa';
  const served = await serve(t, { token });
  const traded = await fetch(`${served.url}/console?token=${token}`, { redirect: 'manual' });
  const session = traded.headers.get('set-cookie')!.split(';')[0]!;
  assert.equal(await upgradeStatus(served, { cookie: session, origin: 'http://evil.example' }), 403);
  assert.equal(await upgradeStatus(served, { cookie: session, origin: `http://127.0.0.1:${served.port + 1}` }), 403);
  assert.equal(await upgradeStatus(served, { cookie: session, origin: 'null' }), 403);
  const unprotected = await serve(t);
  assert.equal(await upgradeStatus(unprotected, { origin: 'http://evil.example' }), 403);
  assert.equal(await upgradeStatus(unprotected, { origin: unprotected.url }), 101);
});

test('attack: without a token, a DNS name rebound to the loopback address gets nothing', async (t) => {
  const served = await serve(t);
  const page = await new Promise<http.IncomingMessage>((resolve) => {
    http.get({ host: '127.0.0.1', port: served.port, path: '/console', headers: { host: `rebound.example:${served.port}` } }, resolve);
  });
  page.resume();
  assert.equal(page.statusCode, 403);
  assert.equal(await upgradeStatus(served, { host: `rebound.example:${served.port}`, origin: `http://rebound.example:${served.port}` }), 403);
  assert.equal((await fetch(`http://localhost:${served.port}/console`)).status, 200);
  assert.equal((await fetch(`${served.url}/console`)).status, 200);
});

test('a page that stops reading costs a bounded amount: its tail skips ahead and says how much', async (t) => {
  const limits = { chunkBytes: 16 * 1024, maxInFlightBytes: 64 * 1024, maxBacklogBytes: 256 * 1024, tailBytes: 16 * 1024 };
  const served = await serve(t, { limits });
  const task = served.source.add('flood', 'TASK_RUNNING');
  const stdout = join(task.sandbox, 'stdout');
  writeFileSync(stdout, 'start\n');
  const client = await Client.open(t, served);
  client.send({ type: 'follow', taskId: 'flood', stream: 'stdout' });
  await eventually('the start', () => client.output('flood').toString() === 'start\n');
  // The page stops reading; 32 MiB are written meanwhile.
  const raw = (client.socket as unknown as { _socket: import('node:net').Socket })._socket;
  raw.pause();
  const block = Buffer.alloc(1024 * 1024, 'z');
  for (let i = 0; i < 32; i++) appendFileSync(stdout, block);
  appendFileSync(stdout, 'the end\n');
  await new Promise((resolve) => setTimeout(resolve, 500));
  raw.resume();
  await eventually('the end', () => client.output('flood').toString().endsWith('the end\n'), 20_000);
  const total = 6 + 32 * 1024 * 1024 + 8;
  const delivered = client.output('flood').length;
  const skipped = client.messages.filter((m) => m.type === 'skipped').reduce((sum, m) => sum + m.bytes, 0);
  assert.ok(skipped > 0, 'the tail skipped ahead');
  assert.equal(delivered + skipped, total);
  assert.ok(delivered < 4 * 1024 * 1024, `a slow page got ${delivered} bytes, not the whole flood`);
});

test('the page is served at /console, / leads there, other paths are left to the server', async (t) => {
  const served = await serve(t);
  const root = await fetch(`${served.url}/`, { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/console');
  assert.equal((await fetch(`${served.url}/state`)).status, 404);
  assert.equal((await fetch(`${served.url}/console`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${served.url}/console/ws`)).status, 426);
});

test('following a task whose sandbox is not there yet is a problem for that pane, not for the agent', async (t) => {
  const served = await serve(t);
  const task = served.source.add('early');
  rmSync(task.sandbox, { recursive: true });
  const client = await Client.open(t, served);
  client.send({ type: 'follow', taskId: 'early', stream: 'stdout' });
  const problem = await client.next('the problem', (m) => m.type === 'problem');
  assert.equal(problem.message, 'the sandbox of early cannot be read (ENOENT)');
  client.send({ type: 'kill', taskId: 'early' });
  await client.next('the kill answer', (m) => m.type === 'killed');
});

test('a log asked for before the task has a sandbox is followed once it has one', async (t) => {
  const served = await serve(t);
  const task = served.source.add('fetching');
  served.source.views.set('fetching', { ...task, sandbox: '' });
  const client = await Client.open(t, served);
  client.send({ type: 'follow', taskId: 'fetching', stream: 'stdout' });
  const waiting = await client.next('the wait', (m) => m.type === 'problem');
  assert.equal(waiting.message, 'no sandbox yet; following once the task has one');
  writeFileSync(join(task.sandbox, 'stdout'), 'fetched and running\n');
  served.source.update('fetching', 'TASK_RUNNING', { sandbox: task.sandbox });
  await eventually('the output', () => client.output('fetching').toString() === 'fetched and running\n');
});
