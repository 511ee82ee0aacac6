// `serve` with rotating sandbox logs (--container_logger=rotate): the console's live tail follows
// the task's stdout across every rotation, byte for byte, and /files/browse and /files/read show
// the kept files, whose reassembly is the output's tail.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { eventually, shellTask } from '../helpers/harness.js';
import { cleanUpServe, startServe, submit, waitForState } from '../helpers/serve-process.js';

const LINES = 800;
const line = (i: number): string => `line ${String(i).padStart(5, '0')} ${'.'.repeat(40)}\n`;
// 52-byte lines, 1 KiB at a time with a pause: about 40 KiB through 4 KiB files kept 3 deep.
const WRITER = `while [ ! -e "$MESOS_SANDBOX/go" ]; do sleep 0.05; done; i=0; while [ $i -lt ${LINES} ]; do `
  + `printf 'line %05d ........................................\\n' $i; i=$((i+1)); `
  + `[ $((i % 20)) -eq 0 ] && sleep 0.05; done; true`;

test('the console tails a rotating stdout exactly, and /files/read reads the kept files', { timeout: 180_000 }, async (t) => {
  const serve = await startServe(t, { args: ['--port=0', '--container_logger=rotate', '--max_stdout_size=4KB', '--logrotate_stdout_options=rotate 3'] });
  cleanUpServe(t, serve.workDir);
  const expected = Buffer.from(Array.from({ length: LINES }, (_, i) => line(i)).join(''));

  const task = shellTask(WRITER);
  const taskId = task.task_id.value;
  assert.equal((await submit(serve.base, task)).status, 202);
  const running = await waitForState(serve.base, taskId, 'TASK_RUNNING');

  const messages: any[] = [];
  const socket = new WebSocket(`ws://127.0.0.1:${serve.port}/console/ws`);
  t.after(() => socket.terminate());
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'follow', taskId, stream: 'stdout' }));
  writeFileSync(join(running.sandbox!, 'go'), '');

  await waitForState(serve.base, taskId, 'TASK_FINISHED');
  const tailed = await eventually('the whole output over the console', () => {
    const bytes = Buffer.concat(messages.filter((m) => m.type === 'output' && m.taskId === taskId && m.stream === 'stdout').map((m) => Buffer.from(m.data, 'base64')));
    return bytes.length >= expected.length ? bytes : undefined;
  }, 30_000);
  assert.deepEqual(messages.filter((m) => m.type === 'skipped' || m.type === 'problem'), [], 'nothing skipped, no problem');
  assert.ok(tailed.equals(expected), `the tail is the output byte for byte (${tailed.length} of ${expected.length} bytes)`);

  const browse = await fetch(`${serve.base}/files/browse?path=/tasks/${taskId}`);
  assert.equal(browse.status, 200);
  const names = ((await browse.json()) as Array<{ path: string }>).map((entry) => entry.path.split('/').pop()!).filter((name) => name.startsWith('stdout')).sort();
  assert.deepEqual(names, ['stdout', 'stdout.1', 'stdout.2', 'stdout.3']);
  const read = async (name: string): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for (let offset = 0; ; ) {
      const response = await fetch(`${serve.base}/files/read?path=/tasks/${taskId}/${name}&offset=${offset}&length=65536`);
      assert.equal(response.status, 200, await response.clone().text());
      const { data } = (await response.json()) as { data: string };
      if (data === '') return Buffer.concat(parts);
      parts.push(Buffer.from(data, 'utf8'));
      offset += Buffer.byteLength(data);
    }
  };
  const kept = Buffer.concat([await read('stdout.3'), await read('stdout.2'), await read('stdout.1'), await read('stdout')]);
  for (const name of ['stdout.3', 'stdout.2', 'stdout.1']) assert.equal((await read(name)).length, 4096, `${name} is full`);
  assert.ok(kept.equals(expected.subarray(expected.length - kept.length)), 'the kept files are the tail of the output');
});
