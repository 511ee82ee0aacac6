// The Docker runtime against a fake Engine API: a real HTTP server on a unix socket in a temp
// directory, so that versions, deadlines, aborts and broken answers can be produced at will.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CreateRequest } from '../../src/docker/create-request.js';
import { DockerError } from '../../src/docker/docker-error.js';
import { DockerRuntime } from '../../src/docker/docker-runtime.js';
import { dockerFrame } from '../helpers/docker-frame.js';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
  readonly headers: http.IncomingHttpHeaders;
}

type Route = (request: Seen, response: http.ServerResponse) => void;
type UpgradeRoute = (request: Seen, socket: Socket) => void;

interface FakeDocker {
  readonly socketPath: string;
  readonly seen: Seen[];
}

// A fake daemon: GET /version answers `apiVersion`; every other request goes to `route`.
async function fakeDocker(
  t: TestContext,
  route: Route,
  options: { apiVersion?: string; version?: Route; upgrade?: UpgradeRoute } = {},
): Promise<FakeDocker> {
  const directory = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  const socketPath = join(directory, 'docker.sock');
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  // An upgrade's body comes as `head`: Node does not read it as the request's.
  const describe = async (request: http.IncomingMessage, head?: Buffer): Promise<Seen> => {
    const url = new URL(request.url ?? '/', 'http://docker');
    const chunks: Buffer[] = head ? [head] : [];
    if (!head && request.headers['content-length'] !== undefined) for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const entry = {
      method: request.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: text === '' ? undefined : JSON.parse(text),
      headers: request.headers,
    };
    seen.push(entry);
    return entry;
  };
  const server = http.createServer((request, response) => {
    void describe(request).then((entry) => {
      if (entry.path === '/version') {
        if (options.version) return options.version(entry, response);
        return json(response, 200, { Version: '99.0.0', ApiVersion: options.apiVersion ?? '1.43', MinAPIVersion: '1.12' });
      }
      route(entry, response);
    });
  });
  server.on('upgrade', (request: http.IncomingMessage, socket: Socket, head: Buffer) => {
    void describe(request, head).then((entry) => options.upgrade?.(entry, socket));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(directory, { recursive: true, force: true });
  });
  return { socketPath, seen };
}

function json(response: http.ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  response.end(body);
}

function noContent(response: http.ServerResponse): void {
  response.writeHead(204);
  response.end();
}

function runtime(t: TestContext, fake: { socketPath: string }, timeoutMs = 2000): DockerRuntime {
  const docker = new DockerRuntime(fake.socketPath, { timeoutMs });
  t.after(() => docker.close());
  return docker;
}

async function rejection(promise: Promise<unknown>): Promise<DockerError> {
  const error = await promise.then(() => assert.fail('expected a failure'), (caught: unknown) => caught);
  assert.ok(error instanceof DockerError, `a DockerError, not ${String(error)}`);
  return error;
}


const CREATE_BODY: CreateRequest = {
  Image: 'busybox:latest', Env: ['A=1'], Labels: { x: 'y' }, AttachStdin: false, AttachStdout: true, AttachStderr: true,
  Tty: false, OpenStdin: false, Cmd: ['true'], HostConfig: { Binds: [], NetworkMode: 'none' },
};

test('every versioned path carries the negotiated version: the lower of the daemon\'s and 1.41', async (t) => {
  for (const [daemon, spoken] of [['1.43', '1.41'], ['1.41', '1.41'], ['1.40', '1.40']] as const) {
    const fake = await fakeDocker(t, (_request, response) => noContent(response), { apiVersion: daemon });
    const docker = runtime(t, fake);
    await docker.start('abc');
    await docker.kill('abc', 'SIGTERM');
    assert.deepEqual(await docker.version(), { version: '99.0.0', apiVersion: spoken });
    assert.deepEqual(fake.seen.map((request) => request.path), ['/version', `/v${spoken}/containers/abc/start`, `/v${spoken}/containers/abc/kill`], daemon);
  }
});

test('a daemon older than API 1.40 is refused with a clear error, and nothing else is asked of it', async (t) => {
  const fake = await fakeDocker(t, (_request, response) => noContent(response), { apiVersion: '1.39' });
  const docker = runtime(t, fake);
  const error = await rejection(docker.start('abc'));
  assert.match(error.message, /speaks API 1\.39, older than 1\.40 .*upgrade Docker/);
  const bad = await fakeDocker(t, (_request, response) => noContent(response), { apiVersion: 'banana' });
  assert.match((await rejection(runtime(t, bad).start('abc'))).message, /reported API version "banana"; expected a version such as "1\.41"/);
  assert.deepEqual(fake.seen.map((request) => request.path), ['/version'], 'never asked for the start');
});

test('concurrent first calls share one negotiation; a failed one is asked again by the next call', async (t) => {
  let versions = 0;
  const fake = await fakeDocker(t, (_request, response) => noContent(response), {
    version: (_request, response) => {
      versions += 1;
      // The first answer comes late, so that every call below waits on it.
      if (versions === 1) setTimeout(() => json(response, 200, { Version: '20.10', ApiVersion: '1.41' }), 50);
      else json(response, 200, { Version: '20.10', ApiVersion: '1.41' });
    },
  });
  const docker = runtime(t, fake);
  await Promise.all(['a', 'b', 'c', 'd', 'e'].map((id) => docker.start(id)));
  assert.equal(versions, 1);
  await docker.start('f');
  assert.equal(versions, 1, 'cached');

  let failures = 0;
  const flaky = await fakeDocker(t, (_request, response) => noContent(response), {
    version: (_request, response) => (failures++ === 0 ? json(response, 500, { message: 'starting up' }) : json(response, 200, { ApiVersion: '1.41' })),
  });
  const second = runtime(t, flaky);
  assert.equal((await rejection(second.start('a'))).message, 'starting up');
  await second.start('a');
});

test('a call the daemon does not answer in time fails with ERR_DOCKER_TIMEOUT', async (t) => {
  const fake = await fakeDocker(t, () => undefined);
  const docker = runtime(t, fake, 200);
  const started = Date.now();
  const error = await rejection(docker.inspect('abc'));
  assert.equal(error.code, 'ERR_DOCKER_TIMEOUT');
  assert.equal(error.message, 'Docker daemon did not answer GET /containers/abc/json within 200 ms');
  assert.ok(Date.now() - started < 1500);
  // The version itself is bounded too.
  const silent = await fakeDocker(t, () => undefined, { version: () => undefined });
  assert.match((await rejection(runtime(t, silent, 200).start('abc'))).message, /did not answer GET \/version within 200 ms/);
});

test('an aborted call fails at once as cancelled, carrying the signal\'s reason', async (t) => {
  const fake = await fakeDocker(t, () => undefined);
  const docker = runtime(t, fake, 10_000);
  const controller = new AbortController();
  const reason = new Error('the task was killed');
  const pending = docker.inspect('abc', controller.signal);
  setTimeout(() => controller.abort(reason), 30);
  const error = await rejection(pending);
  assert.equal(error.code, 'ERR_DOCKER_CANCELLED');
  assert.equal(error.message, 'GET /containers/abc/json was cancelled');
  assert.equal(error.cause, reason);

  const before = await rejection(docker.start('abc', AbortSignal.abort(reason)));
  assert.equal(before.code, 'ERR_DOCKER_CANCELLED');
  assert.equal(before.cause, reason);
});

test('every verb names the missing socket when the daemon cannot be reached', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'no-docker-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const socketPath = join(directory, 'docker.sock');
  const docker = runtime(t, { socketPath });
  const verbs: Record<string, () => Promise<unknown>> = {
    version: () => docker.version(),
    ping: () => docker.ping(),
    create: () => docker.create('n', CREATE_BODY),
    start: () => docker.start('a'),
    attach: () => docker.attach('a'),
    wait: () => docker.wait('a', 'next-exit'),
    kill: () => docker.kill('a', 'SIGKILL'),
    inspect: () => docker.inspect('a'),
    logs: () => docker.logs('a'),
    events: () => docker.events('a', ['kill'], 1, 2),
    remove: () => docker.remove('a'),
    list: () => docker.list(['x']),
    execCreate: () => docker.execCreate('a', { cmd: ['true'] }),
    execStart: () => docker.execStart('e'),
    execInspect: () => docker.execInspect('e'),
    hasImage: () => docker.hasImage('busybox'),
    pull: () => docker.pull('busybox', {}),
  };
  for (const [verb, call] of Object.entries(verbs)) {
    const error = await rejection(call());
    assert.equal(error.code, 'ERR_DOCKER_UNREACHABLE', verb);
    assert.equal(error.message, `Cannot reach the Docker daemon at ${socketPath} (ENOENT)`, verb);
  }
});

test('a refusal carries the daemon\'s message and status', async (t) => {
  const answers: Record<string, (response: http.ServerResponse) => void> = {
    '/v1.41/containers/gone/json': (response) => json(response, 404, { message: 'No such container: gone' }),
    '/v1.41/containers/busy/start': (response) => { response.writeHead(500); response.end('plain text failure\n'); },
    '/v1.41/containers/quiet/kill': (response) => { response.writeHead(409); response.end(); },
  };
  const fake = await fakeDocker(t, (request, response) => answers[request.path]!(response));
  const docker = runtime(t, fake);
  const gone = await rejection(docker.inspect('gone'));
  assert.deepEqual([gone.message, gone.status, gone.notFound, gone.code], ['No such container: gone', 404, true, 'ERR_DOCKER']);
  const busy = await rejection(docker.start('busy'));
  assert.deepEqual([busy.message, busy.status, busy.notFound], ['plain text failure', 500, false]);
  const quiet = await rejection(docker.kill('quiet', 'SIGTERM'));
  assert.deepEqual([quiet.message, quiet.status], ['HTTP 409', 409]);
});

test('each verb sends its method, path, query and body, and reads its answer', async (t) => {
  const inspect = { Id: 'abc', State: { Running: true, Pid: 42 } };
  const answers: Record<string, (response: http.ServerResponse) => void> = {
    'POST /v1.41/containers/create': (response) => json(response, 201, { Id: 'new-id', Warnings: [] }),
    'GET /v1.41/containers/a%2Fb/json': (response) => json(response, 200, inspect),
    'DELETE /v1.41/containers/gone': (response) => json(response, 404, { message: 'No such container: gone' }),
    'GET /v1.41/containers/json': (response) => json(response, 200, [{ Id: 'c1', Names: ['/one'], Labels: { k: 'v' } }, { Id: 'c2' }]),
    'POST /v1.41/containers/abc/exec': (response) => json(response, 201, { Id: 'exec-1' }),
    'GET /v1.41/exec/exec-1/json': (response) => json(response, 200, { Running: false, ExitCode: 3, Pid: 77 }),
    'GET /v1.41/images/busybox%3A1/json': (response) => json(response, 200, { Id: 'sha256:1' }),
    'GET /v1.41/images/missing%3A1/json': (response) => json(response, 404, { message: 'No such image' }),
    'GET /_ping': (response) => { response.writeHead(200); response.end('OK'); },
  };
  const fake = await fakeDocker(t, (request, response) => (answers[`${request.method} ${request.path}`] ?? noContent)(response));
  const docker = runtime(t, fake);
  const cases: Array<{ call: () => Promise<unknown>; request: Partial<Seen>; result?: unknown }> = [
    { call: () => docker.ping(), request: { method: 'GET', path: '/_ping', query: {} } },
    { call: () => docker.create('task-1', CREATE_BODY), request: { method: 'POST', path: '/v1.41/containers/create', query: { name: 'task-1' }, body: CREATE_BODY }, result: 'new-id' },
    { call: () => docker.start('abc'), request: { method: 'POST', path: '/v1.41/containers/abc/start', query: {} } },
    { call: () => docker.kill('abc', 'SIGKILL'), request: { method: 'POST', path: '/v1.41/containers/abc/kill', query: { signal: 'SIGKILL' } } },
    { call: async () => (await docker.inspect('a/b')).parsed, request: { method: 'GET', path: '/v1.41/containers/a%2Fb/json' }, result: inspect },
    { call: () => docker.remove('abc'), request: { method: 'DELETE', path: '/v1.41/containers/abc', query: { force: '1', v: '1' } } },
    { call: () => docker.remove('gone'), request: { method: 'DELETE', path: '/v1.41/containers/gone' }, result: undefined },
    {
      call: () => docker.list(['org.apache.mesos.executor_pid', 'a=b']),
      request: { method: 'GET', path: '/v1.41/containers/json', query: { all: '1', filters: JSON.stringify({ label: ['org.apache.mesos.executor_pid', 'a=b'] }) } },
      result: [{ id: 'c1', name: 'one', labels: { k: 'v' } }, { id: 'c2', name: 'c2', labels: {} }],
    },
    {
      call: () => docker.execCreate('abc', { cmd: ['sh', '-c', 'exit 3'], env: ['X=1'], user: 'nobody' }),
      request: {
        method: 'POST', path: '/v1.41/containers/abc/exec',
        body: { AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: ['sh', '-c', 'exit 3'], Env: ['X=1'], User: 'nobody' },
      },
      result: 'exec-1',
    },
    { call: () => docker.execInspect('exec-1'), request: { method: 'GET', path: '/v1.41/exec/exec-1/json' }, result: { running: false, exitCode: 3, pid: 77 } },
    { call: () => docker.hasImage('busybox:1'), request: { method: 'GET', path: '/v1.41/images/busybox%3A1/json' }, result: true },
    { call: () => docker.hasImage('missing:1'), request: { method: 'GET', path: '/v1.41/images/missing%3A1/json' }, result: false },
  ];
  for (const { call, request, result } of cases) {
    const answer = await call();
    const sent = fake.seen.at(-1)!;
    const what = `${request.method} ${request.path}`;
    for (const [key, value] of Object.entries(request)) assert.deepEqual(sent[key as keyof Seen], value, `${what}: ${key}`);
    if ('result' in { result } && result !== undefined) assert.deepEqual(answer, result, what);
  }
});

test('attach and exec start hand over the hijacked connection, bytes sent with the answer included', async (t) => {
  const output = Buffer.concat([dockerFrame(1, 'out\n'), dockerFrame(2, 'err\n')]);
  const fake = await fakeDocker(t, () => undefined, {
    upgrade: (request, socket) => {
      if (request.path.includes('missing')) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{"message":"No such exec instance: x"}'.replace('37', String('{"message":"No such exec instance: x"}'.length)));
        return;
      }
      // The first frame goes out in the same write as the 101, as a daemon may do.
      socket.write(Buffer.concat([Buffer.from('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n'), output.subarray(0, 5)]));
      setTimeout(() => socket.end(output.subarray(5)), 20);
    },
  });
  const docker = runtime(t, fake);
  for (const open of [() => docker.attach('abc'), () => docker.execStart('exec-1')]) {
    const stream = await open();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), output);
  }
  const [attach, exec] = fake.seen.slice(-2);
  assert.equal(attach!.path, '/v1.41/containers/abc/attach');
  assert.deepEqual(attach!.query, { stream: '1', stdout: '1', stderr: '1', logs: '0' });
  assert.equal(attach!.headers.upgrade, 'tcp');
  assert.equal(exec!.path, '/v1.41/exec/exec-1/start');
  assert.deepEqual(exec!.body, { Detach: false, Tty: false });
  const refused = await rejection(docker.execStart('missing'));
  assert.deepEqual([refused.message, refused.status], ['No such exec instance: x', 404]);
});

test('wait resolves once the daemon registered it; its result comes with the exit', async (t) => {
  let exit: (() => void) | undefined;
  const fake = await fakeDocker(t, (request, response) => {
    assert.equal(request.path, '/v1.41/containers/abc/wait');
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.flushHeaders();
    exit = () => response.end(JSON.stringify({ StatusCode: 7, Error: { Message: 'oops' } }));
  });
  const docker = runtime(t, fake, 200);
  const watch = await docker.wait('abc', 'not-running');
  assert.deepEqual(fake.seen.at(-1)!.query, { condition: 'not-running' });
  let settled = false;
  void watch.result.finally(() => { settled = true; });
  // Longer than the call bound: a registered wait has no deadline.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(settled, false, 'no result before the exit');
  exit!();
  assert.deepEqual(await watch.result, { statusCode: 7, error: 'oops' });
});

test('an aborted wait loses its result as cancelled', async (t) => {
  const fake = await fakeDocker(t, (_request, response) => {
    response.writeHead(200);
    response.flushHeaders();
  });
  const docker = runtime(t, fake);
  const controller = new AbortController();
  const watch = await docker.wait('abc', 'next-exit', controller.signal);
  controller.abort(new Error('adoption abandoned'));
  const error = await rejection(watch.result);
  assert.equal(error.code, 'ERR_DOCKER_CANCELLED');
});

test('pull progress arrives record by record however the stream is cut, with the credentials header', async (t) => {
  const lines = [
    { status: 'Pulling from library/busybox', id: '1' },
    { status: 'Downloading', progressDetail: { current: 10, total: 100 }, id: 'layer' },
    { status: 'Pull complete', progressDetail: {}, id: 'layer' },
  ];
  const text = `${lines.map((line) => JSON.stringify(line)).join('\r\n')}\nnot json\n`;
  const fake = await fakeDocker(t, (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    // Cut in the middle of records.
    const cuts = [0, 7, 40, 41, 90, text.length];
    let index = 0;
    const next = (): void => {
      if (index === cuts.length - 1) return void response.end();
      response.write(text.slice(cuts[index], cuts[index + 1]));
      index += 1;
      setTimeout(next, 5);
    };
    next();
  });
  const docker = runtime(t, fake);
  const records: unknown[] = [];
  await docker.pull('127.0.0.1:5000/private/busybox', { authHeader: 'c2VjcmV0', onProgress: (record) => records.push(record) });
  assert.deepEqual(records, lines);
  const sent = fake.seen.at(-1)!;
  assert.equal(sent.path, '/v1.41/images/create');
  assert.deepEqual(sent.query, { fromImage: '127.0.0.1:5000/private/busybox', tag: 'latest' });
  assert.equal(sent.headers['x-registry-auth'], 'c2VjcmV0');
});

test('a pull fails on an error record, a refusal, an endless line and a silence', async (t) => {
  const answers: Record<string, (response: http.ServerResponse) => void> = {
    'error-record': (response) => {
      response.writeHead(200);
      response.end(`${JSON.stringify({ status: 'Pulling' })}\n${JSON.stringify({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' })}\n`);
    },
    refused: (response) => json(response, 404, { message: 'pull access denied for error-record' }),
    endless: (response) => {
      response.writeHead(200);
      const block = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const next = (): void => {
        if (sent > 2 * 1024 * 1024 || response.destroyed) return void response.end();
        sent += block.length;
        if (response.write(block)) setImmediate(next);
        else response.once('drain', next);
      };
      next();
    },
    silent: (response) => {
      response.writeHead(200);
      response.write(`${JSON.stringify({ status: 'Pulling' })}\n`);
    },
  };
  const fake = await fakeDocker(t, (request, response) => answers[request.query.fromImage!]!(response));
  const docker = runtime(t, fake);
  const errorRecord = await rejection(docker.pull('error-record', {}));
  assert.deepEqual([errorRecord.message, errorRecord.status], ['manifest unknown', 200]);
  const refused = await rejection(docker.pull('refused', {}));
  assert.deepEqual([refused.message, refused.status], ['pull access denied for error-record', 404]);
  const endless = await rejection(docker.pull('endless', {}));
  assert.equal(endless.message, 'the pull progress stream has a line longer than 1 MiB');
  const silent = await rejection(docker.pull('silent', { inactivityTimeoutMs: 200 }));
  assert.equal(silent.code, 'ERR_DOCKER_TIMEOUT');
  assert.match(silent.message, /sent nothing for POST \/images\/create in 200 ms/);
});

test('events are read from the daemon\'s JSON lines, filtered to the container and the actions', async (t) => {
  const fake = await fakeDocker(t, (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.write(`${JSON.stringify({ Type: 'container', Action: 'kill', Actor: { ID: 'abc', Attributes: { signal: '15', name: 'x' } }, time: 1700000001 })}\n`);
    response.end(`${JSON.stringify({ Type: 'container', Action: 'die', Actor: { ID: 'abc', Attributes: { exitCode: '0' } }, time: 1700000002 })}\n`);
  });
  const docker = runtime(t, fake);
  const events = await docker.events('abc', ['kill', 'die'], 1700000000, 1700000005.25);
  assert.deepEqual(events, [
    { action: 'kill', attributes: { signal: '15', name: 'x' }, time: 1700000001 },
    { action: 'die', attributes: { exitCode: '0' }, time: 1700000002 },
  ]);
  const sent = fake.seen.at(-1)!;
  assert.equal(sent.path, '/v1.41/events');
  assert.deepEqual(sent.query, {
    since: '1700000000', until: '1700000005.250',
    filters: JSON.stringify({ container: ['abc'], type: ['container'], event: ['kill', 'die'] }),
  });
});

test('logs follow the container\'s output from its first byte', async (t) => {
  const fake = await fakeDocker(t, (_request, response) => {
    response.writeHead(200);
    response.end(dockerFrame(1, 'hello\n'));
  });
  const docker = runtime(t, fake);
  const stream = await docker.logs('abc');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  assert.deepEqual(Buffer.concat(chunks), dockerFrame(1, 'hello\n'));
  assert.deepEqual(fake.seen.at(-1)!.query, { follow: '1', stdout: '1', stderr: '1' });
});
