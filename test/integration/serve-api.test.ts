// `node dist/agent.js serve` and its HTTP API against the real Docker engine: tasks submitted,
// listed, killed with a grace period; sandbox files read (ranges, offset -1) and browsed; a bad
// request for each endpoint; paths that try to leave a sandbox, links planted by the task's own
// container included; the bearer token.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { allCommandLines, eventually, shellTask } from '../helpers/harness.js';
import { cleanUpServe, readServeCheckpoint, startServe, stateTasks, submit, waitForState } from '../helpers/serve-process.js';

test('submit, list, read and browse the sandbox, kill with a grace period', async (t) => {
  const serve = await startServe(t);
  cleanUpServe(t, serve.workDir);

  const hello = shellTask('printf "line one\\nline two\\n"; printf "oops\\n" >&2');
  const submitted = await submit(serve.base, hello);
  assert.equal(submitted.status, 202, await submitted.clone().text());
  assert.deepEqual(await submitted.json(), { task_id: { value: hello.task_id.value } });
  const stubborn = shellTask("trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.1; done");
  assert.equal((await submit(serve.base, stubborn)).status, 202);

  const finished = await waitForState(serve.base, hello.task_id.value, 'TASK_FINISHED');
  assert.deepEqual(finished.statuses.map((status) => status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.ok(finished.submitted_at <= finished.running_at! && finished.running_at! <= finished.ended_at!);
  assert.ok(finished.sandbox?.startsWith(serve.workDir));

  // Reads as Mesos's /files/read: offset -1 gives the size, ranges, past the end nothing.
  const read = async (query: string) => {
    const response = await fetch(`${serve.base}/files/read?${query}`);
    assert.equal(response.status, 200, `${query}: ${await response.clone().text()}`);
    return response.json() as Promise<{ data: string; offset: number }>;
  };
  const stdout = `/tasks/${hello.task_id.value}/stdout`;
  assert.deepEqual(await read(`path=${stdout}&offset=-1`), { data: '', offset: 18 });
  assert.deepEqual(await read(`path=${stdout}&offset=0`), { data: 'line one\nline two\n', offset: 0 });
  assert.deepEqual(await read(`path=${stdout}&offset=5&length=3`), { data: 'one', offset: 5 });
  assert.deepEqual(await read(`path=${stdout}&offset=99&length=3`), { data: '', offset: 18 });
  // The sandbox's absolute path works as well.
  assert.deepEqual(await read(`path=${encodeURIComponent(`${finished.sandbox}/stderr`)}&offset=0&length=0`), { data: '', offset: 0 });
  assert.match((await read(`path=${encodeURIComponent(`${finished.sandbox}/stdout`)}&offset=9`)).data, /^line two\n$/);

  const browse = await fetch(`${serve.base}/files/browse?path=/tasks/${hello.task_id.value}`);
  assert.equal(browse.status, 200);
  const entries = (await browse.json()) as Array<Record<string, unknown>>;
  const stdoutEntry = entries.find((entry) => entry.path === stdout);
  assert.ok(stdoutEntry, JSON.stringify(entries));
  assert.equal(stdoutEntry.size, 18);
  assert.match(String(stdoutEntry.mode), /^-rw/);
  for (const field of ['nlink', 'mtime', 'uid', 'gid']) assert.ok(field in stdoutEntry, field);

  // Kill with a 1.5 s grace: TERM is trapped, so SIGKILL ends it once the grace is over.
  await waitForState(serve.base, stubborn.task_id.value, 'TASK_RUNNING');
  await eventually('the task to trap TERM', async () => (await read(`path=/tasks/${stubborn.task_id.value}/stdout&offset=0`)).data.includes('ready') || undefined);
  const killedAt = Date.now();
  const kill = await fetch(`${serve.base}/api/v1/tasks/${stubborn.task_id.value}/kill`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kill_policy: { grace_period: { nanoseconds: 1_500_000_000 } } }),
  });
  assert.equal(kill.status, 202, await kill.text());
  const killed = await waitForState(serve.base, stubborn.task_id.value, 'TASK_KILLED');
  assert.ok(killed.ended_at! * 1000 - killedAt >= 1400, `killed after ${killed.ended_at! * 1000 - killedAt} ms, before its grace period`);
  assert.deepEqual(killed.statuses.map((status) => status.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  assert.match((await read(`path=/tasks/${stubborn.task_id.value}/stdout&offset=0`)).data, /got TERM/);
});

test('a bad request to each endpoint gets a 4xx and a one-line reason', async (t) => {
  const serve = await startServe(t);
  cleanUpServe(t, serve.workDir);
  const done = shellTask('echo done');
  assert.equal((await submit(serve.base, done)).status, 202);
  await waitForState(serve.base, done.task_id.value, 'TASK_FINISHED');

  const call = async (method: string, path: string, body?: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) => {
    const response = await fetch(`${serve.base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    return { status: response.status, text };
  };
  const cases: Array<[string, Promise<{ status: number; text: string }>, number, RegExp]> = [
    ['submit: not JSON', call('POST', '/api/v1/tasks', '{"name":'), 400, /not valid JSON/],
    ['submit: no name', call('POST', '/api/v1/tasks', '{"task_id":{"value":"x"}}'), 400, /Missing required fields: name/],
    ['submit: a field of the wrong type', call('POST', '/api/v1/tasks', '{"name":"x","task_id":{"value":7}}'), 400, /task_id\.value: expected a string/],
    ['submit: a task id naming a parent directory', call('POST', '/api/v1/tasks', '{"name":"x","task_id":{"value":".."},"container":{"type":"DOCKER","docker":{"image":"busybox"}}}'), 400, /task_id\.value '\.\.'/],
    ['submit: a task id with a slash', call('POST', '/api/v1/tasks', '{"name":"x","task_id":{"value":"a/b"},"container":{"type":"DOCKER","docker":{"image":"busybox"}}}'), 400, /task_id\.value 'a\/b'/],
    ['submit: no Docker image', call('POST', '/api/v1/tasks', '{"name":"x","task_id":{"value":"y"}}'), 400, /container\.docker\.image/],
    ['submit: the same id again', call('POST', '/api/v1/tasks', JSON.stringify({ name: 'x', task_id: { value: done.task_id.value }, container: { type: 'DOCKER', docker: { image: 'busybox' } } })), 409, /submitted already/],
    ['submit: not JSON content', call('POST', '/api/v1/tasks', '{}', { 'Content-Type': 'text/plain' }), 415, /expected application\/json/],
    ['submit: a body too large', call('POST', '/api/v1/tasks', `{"name":"${'x'.repeat(2 * 1024 * 1024)}"}`), 413, /larger than/],
    ['submit: GET', call('GET', '/api/v1/tasks'), 405, /expected POST/],
    ['kill: an unknown task', call('POST', '/api/v1/tasks/nobody/kill', ''), 404, /No task 'nobody'/],
    ['kill: an ended task', call('POST', `/api/v1/tasks/${done.task_id.value}/kill`, ''), 409, /ended already \(TASK_FINISHED\)/],
    ['kill: a bad grace period', call('POST', `/api/v1/tasks/${done.task_id.value}/kill`, '{"kill_policy":{"grace_period":{"nanoseconds":-1}}}'), 400, /grace_period\.nanoseconds is -1/],
    ['state: POST', call('POST', '/state', ''), 405, /expected GET/],
    ['read: no offset', call('GET', `/files/read?path=/tasks/${done.task_id.value}/stdout`), 400, /Expecting 'offset'/],
    ['read: offset -2', call('GET', `/files/read?path=/tasks/${done.task_id.value}/stdout&offset=-2`), 400, /Failed to parse offset '-2'/],
    ['read: a bad length', call('GET', `/files/read?path=/tasks/${done.task_id.value}/stdout&offset=0&length=lots`), 400, /Failed to parse length 'lots'/],
    ['read: a directory', call('GET', `/files/read?path=/tasks/${done.task_id.value}&offset=0`), 400, /is a directory/],
    ['read: a missing file', call('GET', `/files/read?path=/tasks/${done.task_id.value}/nothing&offset=0`), 404, /No file 'nothing'/],
    ['read: an unknown task', call('GET', '/files/read?path=/tasks/nobody/stdout&offset=0'), 404, /No sandbox for task 'nobody'/],
    ['browse: no path', call('GET', '/files/browse'), 400, /Expecting 'path'/],
    ['browse: a relative path', call('GET', '/files/browse?path=tasks'), 400, /expected an absolute path/],
    ['an unknown endpoint', call('GET', '/api/v1/nothing'), 404, /No endpoint \/api\/v1\/nothing/],
  ];
  for (const [what, pending, status, reason] of cases) {
    const { status: got, text } = await pending;
    assert.equal(got, status, `${what}: ${text}`);
    assert.match(text, reason, what);
    assert.equal(text.trimEnd().split('\n').length, 1, `${what}: one line, got ${JSON.stringify(text)}`);
  }
});

test('no path reaches outside the sandboxes: .., paths elsewhere, links planted by the container', async (t) => {
  const serve = await startServe(t);
  cleanUpServe(t, serve.workDir);
  // The host file a link points at (the agent runs as root, so it could read /etc/shadow).
  const secretDir = mkdtempSync(join(tmpdir(), 'serve-host-'));
  writeFileSync(join(secretDir, 'secret'), 'HOST-ONLY-CONTENT\n');
  const planter = shellTask([
    'cd "$MESOS_SANDBOX"',
    `ln -s ${secretDir}/secret leak`,
    'ln -s /etc/shadow shadow',
    `ln -s ${secretDir} hostdir`,
    'mkdir -p sub && echo inside > sub/file',
    'echo planted; sleep 600',
  ].join(' && '));
  assert.equal((await submit(serve.base, planter)).status, 202);
  const running = await waitForState(serve.base, planter.task_id.value, 'TASK_RUNNING');
  const id = planter.task_id.value;
  await eventually('the links to be planted', async () => {
    const response = await fetch(`${serve.base}/files/read?path=/tasks/${id}/stdout&offset=0`);
    return (await response.json() as { data: string }).data.includes('planted') || undefined;
  });

  const attempts: Array<[string, number]> = [
    [`/files/read?path=/tasks/${id}/leak&offset=0`, 403],
    [`/files/read?path=/tasks/${id}/shadow&offset=0`, 403],
    [`/files/read?path=/tasks/${id}/hostdir/secret&offset=0`, 403],
    [`/files/browse?path=/tasks/${id}/hostdir`, 403],
    [`/files/read?path=${encodeURIComponent(`${running.sandbox}/leak`)}&offset=0`, 403],
    [`/files/read?path=/tasks/${id}/../../../../../../etc/passwd&offset=0`, 400],
    [`/files/read?path=/tasks/${id}/sub/../../stdout&offset=0`, 400],
    [`/files/read?path=${encodeURIComponent(`${running.sandbox}/../../../../../etc/passwd`)}&offset=0`, 400],
    [`/files/read?path=/etc/passwd&offset=0`, 404],
    [`/files/read?path=${encodeURIComponent(`${secretDir}/secret`)}&offset=0`, 404],
    [`/files/browse?path=/`, 404],
    [`/files/browse?path=${encodeURIComponent(serve.workDir)}`, 404],
  ];
  for (const [path, status] of attempts) {
    const response = await fetch(`${serve.base}${path}`);
    const text = await response.text();
    assert.equal(response.status, status, `${path}: ${text}`);
    assert.doesNotMatch(text, /HOST-ONLY-CONTENT|root:/, path);
    if (!decodeURIComponent(path).includes(secretDir)) assert.doesNotMatch(text, new RegExp(secretDir), `${path}: a refusal does not tell where a link points`);
  }
  // What is inside stays readable, and a link is listed as a link, not followed.
  const inside = await fetch(`${serve.base}/files/read?path=/tasks/${id}/sub/file&offset=0`);
  assert.deepEqual(await inside.json(), { data: 'inside\n', offset: 0 });
  const listing = (await (await fetch(`${serve.base}/files/browse?path=/tasks/${id}`)).json()) as Array<{ path: string; mode: string }>;
  assert.equal(listing.find((entry) => entry.path === `/tasks/${id}/leak`)?.mode[0], 'l');
  assert.equal(listing.find((entry) => entry.path === `/tasks/${id}/hostdir`)?.mode[0], 'l');
});

test('with a token, nothing is served without it; the console gets it once as a cookie; it is in no argv', async (t) => {
  const token = `tok-${Date.now()}-secret`;
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'serve-token-')), 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const serve = await startServe(t, { args: ['--port=0', `--authentication_token_file=${tokenFile}`] });
  cleanUpServe(t, serve.workDir);
  const auth = { Authorization: `Bearer ${token}` };

  for (const path of ['/state', '/files/browse?path=/', '/', '/console/ws']) {
    const response = await fetch(`${serve.base}${path}`);
    assert.equal(response.status, 401, path);
    assert.match(await response.text(), /^Unauthorized/);
  }
  const wrong = await fetch(`${serve.base}/state`, { headers: { Authorization: `Bearer ${token}x` } });
  assert.equal(wrong.status, 401);
  const task = shellTask('echo with token');
  assert.equal((await submit(serve.base, task)).status, 401);
  assert.equal((await submit(serve.base, task, auth)).status, 202);
  const finished = await waitForState(serve.base, task.task_id.value, 'TASK_FINISHED', 60_000, auth);
  assert.equal(finished.statuses.at(-1)?.message, 'Container exited with status 0');

  // A WebSocket upgrade without the token is refused before any handler sees it.
  const upgrade = await new Promise<number>((resolveStatus, reject) => {
    const request = http.get(`${serve.base}/console/ws`, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    request.on('response', (response) => resolveStatus(response.statusCode ?? 0));
    request.on('upgrade', () => reject(new Error('upgraded without a token')));
    request.on('error', reject);
  });
  assert.equal(upgrade, 401);

  // ?token= once sets the cookie, which then suffices; the answer sends the browser to the same
  // page without the token in its address.
  const first = await fetch(`${serve.base}/files/browse?path=/&token=${encodeURIComponent(token)}`, { redirect: 'manual' });
  assert.equal(first.status, 303);
  assert.equal(first.headers.get('location'), '/files/browse?path=%2F');
  const cookie = first.headers.get('set-cookie') ?? '';
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const withCookie = await fetch(`${serve.base}/state`, { headers: { Cookie: cookie.split(';')[0]! } });
  assert.equal(withCookie.status, 200);

  // Requests from another origin or for another host name (DNS rebinding) are refused.
  assert.equal((await fetch(`${serve.base}/state`, { headers: { ...auth, Origin: 'http://evil.example' } })).status, 403);
  const rebound = await new Promise<number>((resolveStatus, reject) => {
    http.get(`${serve.base}/state`, { headers: { ...auth, Host: `evil.example:${serve.port}` } }, (response) => {
      response.resume();
      resolveStatus(response.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.equal(rebound, 403);

  // The token is in no process's argv, in the agent's output, or in its checkpoint.
  assert.ok(!allCommandLines().some((line) => line.includes(token)));
  assert.ok(!serve.output().includes(token));
  assert.ok(!readFileSync(join(serve.workDir, 'meta', 'serve', 'agent.json'), 'utf8').includes(token));
  const listed = await stateTasks(serve.base, auth);
  assert.ok(!JSON.stringify(listed).includes(token));
});

test('with no token given, serve makes one (0600, its path printed, never it) and refuses requests without it', async (t) => {
  const serve = await startServe(t, { authentication: true });
  cleanUpServe(t, serve.workDir);
  const tokenFile = join(serve.workDir, 'meta', 'serve', 'token');
  assert.ok(serve.output().includes(tokenFile), serve.output());
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  const token = readFileSync(tokenFile, 'utf8').trim();
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.ok(!serve.output().includes(token));
  assert.equal((await fetch(`${serve.base}/state`)).status, 401);
  assert.equal((await submit(serve.base, shellTask('true'))).status, 401);
  assert.equal((await fetch(`${serve.base}/state`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);

  // A restarted agent keeps the token.
  serve.child.kill('SIGTERM');
  await serve.exited;
  const again = await startServe(t, { workDir: serve.workDir, authentication: true });
  assert.equal(readFileSync(tokenFile, 'utf8').trim(), token);
  assert.equal((await fetch(`${again.base}/state`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  assert.equal((await fetch(`${again.base}/state`)).status, 401);
});

test('--authentication=false serves without a token, with a warning', async (t) => {
  const serve = await startServe(t, { args: ['--port=0', '--authentication=false'] });
  cleanUpServe(t, serve.workDir);
  assert.match(serve.output(), /WARNING: --authentication=false/);
  assert.equal((await fetch(`${serve.base}/state`)).status, 200);
});

test('an executor\'s token opens the executor API only for that executor', async (t) => {
  const serve = await startServe(t, { authentication: true });
  cleanUpServe(t, serve.workDir);
  const token = readFileSync(join(serve.workDir, 'meta', 'serve', 'token'), 'utf8').trim();
  const auth = { Authorization: `Bearer ${token}` };
  const tasks = [shellTask('sleep 300'), shellTask('sleep 300')];
  for (const task of tasks) assert.equal((await submit(serve.base, task, auth)).status, 202);
  for (const task of tasks) await waitForState(serve.base, task.task_id.value, 'TASK_RUNNING', 60_000, auth);
  const envOf = (pid: number): Record<string, string> => Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  const [a, b] = tasks.map((task) => envOf(readServeCheckpoint(serve.workDir)!.tasks.find(({ entry }) => entry.taskId === task.task_id.value)!.entry.executor!.pid!));
  assert.notEqual(a!.MESOS_EXECUTOR_AUTHENTICATION_TOKEN, b!.MESOS_EXECUTOR_AUTHENTICATION_TOKEN);
  const call = (type: string, env: Record<string, string>, bearer: string): Promise<Response> => fetch(`${serve.base}/api/v1/executor`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ type, framework_id: { value: env.MESOS_FRAMEWORK_ID }, executor_id: { value: env.MESOS_EXECUTOR_ID }, ...(type === 'SUBSCRIBE' ? { subscribe: {} } : {}) }),
  });
  assert.equal((await call('HEARTBEAT', a!, a!.MESOS_EXECUTOR_AUTHENTICATION_TOKEN!)).status, 202);
  assert.equal((await call('HEARTBEAT', b!, a!.MESOS_EXECUTOR_AUTHENTICATION_TOKEN!)).status, 401);
  const hijack = await call('SUBSCRIBE', b!, a!.MESOS_EXECUTOR_AUTHENTICATION_TOKEN!);
  assert.equal(hijack.status, 401);
  await hijack.body?.cancel();
  assert.equal((await call('SUBSCRIBE', b!, token)).status, 401);
  // B is still subscribed and running.
  assert.equal((await stateTasks(serve.base, auth)).find((task) => task.id === tasks[1]!.task_id.value)?.state, 'TASK_RUNNING');
});
