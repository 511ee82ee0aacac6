// The serve agent's pure parts: where an API path lands, its inputs checked, the access check,
// the task book's one-terminal-update rule, and reads that never cut a UTF-8 character.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { locateInSandbox } from '../../src/agent/serve/sandbox-path.js';
import { checkTaskId, parseKillBody, parseReadQuery } from '../../src/agent/serve/api-input.js';
import { checkAccess } from '../../src/agent/serve/access.js';
import { sessionValue } from '../../src/agent/console/console-auth.js';
import { TaskBook } from '../../src/agent/serve/task-book.js';
import { completeCharacters } from '../../src/agent/serve/sandbox-files.js';

const SANDBOXES = new Map([['a', '/w/slaves/s/frameworks/f/executors/a/runs/c1'], ['b', '/w/slaves/s/frameworks/f/executors/b/runs/c2']]);

test('an API path lands in one sandbox or is refused', () => {
  const cases: Array<[string, string | number]> = [
    ['/tasks/a/stdout', 'a:stdout'],
    ['/tasks/a', 'a:'],
    ['/tasks/b/./sub//file', 'b:sub/file'],
    ['/w/slaves/s/frameworks/f/executors/a/runs/c1/stdout', 'a:stdout'],
    ['/tasks/a/../b/stdout', 400],
    ['/w/slaves/s/frameworks/f/executors/a/runs/c1/../c2/stdout', 400],
    ['tasks/a/stdout', 400],
    ['/tasks/a/std\0out', 400],
    ['/tasks/nobody/stdout', 404],
    ['/etc/passwd', 404],
    ['/w/slaves/s/frameworks/f/executors/a/runs', 404],
    ['/w/slaves/s/frameworks/f/executors/a/runs/c1x/stdout', 404],
  ];
  for (const [path, expected] of cases) {
    const result = locateInSandbox(path, SANDBOXES);
    const got = result.ok ? `${result.location.taskId}:${result.location.names.join('/')}` : result.status;
    assert.equal(got, expected, path);
  }
});

test('task ids that would name another directory are refused', () => {
  for (const id of ['', '.', '..', 'a/b', 'a\\b', 'a b', 'a\nb', 'x'.repeat(256)]) assert.ok(checkTaskId(id), JSON.stringify(id));
  for (const id of ['web-1', 'task.2', 'a:b_c', '..x']) assert.equal(checkTaskId(id), undefined, id);
});

test('kill bodies and read queries', () => {
  assert.deepEqual(parseKillBody(Buffer.alloc(0)), { ok: true, value: undefined });
  assert.deepEqual(parseKillBody(Buffer.from('{"kill_policy":{"grace_period":{"nanoseconds":2500000000}}}')), { ok: true, value: 2500 });
  assert.deepEqual(parseKillBody(Buffer.from('{"kill_policy":{"grace_period":{"nanoseconds":"1000000"}}}')), { ok: true, value: 1 });
  for (const body of ['[', '[]', '{"kill_policy":{}}', '{"kill_policy":{"grace_period":{"nanoseconds":1.5}}}']) assert.equal(parseKillBody(Buffer.from(body)).ok, false, body);
  assert.deepEqual(parseReadQuery(new URLSearchParams('path=/tasks/a/stdout&offset=-1')), { ok: true, value: { path: '/tasks/a/stdout', offset: -1, length: undefined } });
  assert.deepEqual(parseReadQuery(new URLSearchParams('path=/p&offset=3&length=-1')), { ok: true, value: { path: '/p', offset: 3, length: undefined } });
  for (const query of ['offset=0', 'path=/p', 'path=/p&offset=-2', 'path=/p&offset=1e3', 'path=/p&offset=0&length=-2', 'path=/p&offset=0&length=x']) {
    assert.equal(parseReadQuery(new URLSearchParams(query)).ok, false, query);
  }
});

test('access: the cookie never holds the token (other servers on this host receive it), and the token itself is no cookie', () => {
  const policy = { token: 's3cret', ip: '127.0.0.1' };
  const request = (headers: Record<string, string>, url = '/state') => ({ headers: { host: '127.0.0.1:5051', ...headers }, url });
  const viaQuery = checkAccess(request({}, '/?token=s3cret'), policy);
  assert.ok(viaQuery.ok);
  assert.ok(!viaQuery.setCookie?.includes('s3cret'), viaQuery.setCookie);
  assert.equal(checkAccess(request({ cookie: 'agent_token=s3cret' }), policy).ok, false);
});

test('access: the token by header, cookie or query (which sets the cookie); loopback names only; same origin only', () => {
  const policy = { token: 's3cret', ip: '127.0.0.1' };
  const request = (headers: Record<string, string>, url = '/state') => ({ headers: { host: '127.0.0.1:5051', ...headers }, url });
  assert.equal(checkAccess(request({}), policy).ok, false);
  assert.equal(checkAccess(request({ authorization: 'Bearer s3cret' }), policy).ok, true);
  assert.equal(checkAccess(request({ authorization: 'Bearer s3cre' }), policy).ok, false);
  const viaQuery = checkAccess(request({}, '/?token=s3cret'), policy);
  assert.ok(viaQuery.ok && viaQuery.setCookie !== undefined);
  const session = /^agent_token=([^;]*);/.exec(viaQuery.setCookie)?.[1] ?? '';
  assert.equal(session, sessionValue('s3cret'));
  assert.equal(checkAccess(request({ cookie: `a=b; agent_token=${session}` }), policy).ok, true);
  assert.equal(checkAccess(request({ cookie: `agent_token=${sessionValue('other')}` }), policy).ok, false);
  assert.deepEqual(checkAccess(request({ host: 'attacker.example:5051' }), { token: undefined, ip: '127.0.0.1' }).ok, false);
  assert.equal(checkAccess(request({ host: 'localhost:5051' }), { token: undefined, ip: '127.0.0.1' }).ok, true);
  assert.equal(checkAccess(request({ origin: 'http://127.0.0.1:5051' }), { token: undefined, ip: '127.0.0.1' }).ok, true);
  assert.equal(checkAccess(request({ origin: 'http://evil.example' }), { token: undefined, ip: '127.0.0.1' }).ok, false);
});

test('the task book records each update once and nothing after the terminal one', () => {
  const book = new TaskBook();
  const seen: string[] = [];
  book.onChange((entry) => seen.push(entry.state));
  book.submit('t', 'name', 1000);
  assert.throws(() => book.submit('t', 'again'), /submitted already/);
  assert.equal(book.record('t', { state: 'TASK_RUNNING', timestamp: 2000, uuid: 'aa' }), true);
  assert.equal(book.record('t', { state: 'TASK_RUNNING', timestamp: 2000, uuid: 'aa' }), false);
  assert.equal(book.record('t', { state: 'TASK_FINISHED', timestamp: 3000, uuid: 'bb' }), true);
  assert.equal(book.record('t', { state: 'TASK_LOST', timestamp: 4000 }), false);
  const entry = book.get('t')!;
  assert.deepEqual([entry.state, entry.submittedAt, entry.runningAt, entry.endedAt], ['TASK_FINISHED', 1000, 2000, 3000]);
  assert.deepEqual(seen, ['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED']);
});

test('a read range never ends inside a UTF-8 character', () => {
  const text = Buffer.from('aé€😀', 'utf8'); // 1 + 2 + 3 + 4 bytes
  const cuts = [...Array(text.length + 1).keys()].map((end) => completeCharacters(text.subarray(0, end)));
  assert.deepEqual(cuts, [0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10]);
});
