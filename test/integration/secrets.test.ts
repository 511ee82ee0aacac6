// Secrets (SECRET environment values, registry credentials, the executor's auth token) reach only
// where they belong: never an argv, the executor's log, a status update or a file it writes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { allCommandLines, exitCode, removeImage, sandboxFile, shellTask, startAgent, terminal } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
import { REGISTRY } from '../helpers/registry.js';

const SECRET = 'sekrit-value-8c1f';
const PASSWORD = 'testpassword';
const TOKEN = 'bearer-token-5d2e';
const AUTH_BLOB = Buffer.from(`testuser:${PASSWORD}`).toString('base64');
const FORBIDDEN = [SECRET, PASSWORD, TOKEN, AUTH_BLOB];
const IMAGE = `${REGISTRY}/private/busybox:e2e`;
const SEEDED = '.docker/config.json';


function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const relative = prefix ? `${prefix}/${name}` : name;
    return statSync(path).isDirectory() ? filesUnder(path, relative) : [relative];
  });
}

function assertClean(what: string, text: string): void {
  for (const secret of FORBIDDEN) assert.ok(!text.includes(secret), `${what} contains a secret`);
}

test('no secret in any argv, log line, status update or sandbox file', async (t) => {
  await removeImage(IMAGE);
  const agent = await startAgent(t, { authToken: TOKEN });
  const task = shellTask(`test "$MY_SECRET" = "${'$'}EXPECTED_SECRET_PREFIX-8c1f" && echo secret-ok; echo "plain=$PLAIN"`);
  task.container!.docker!.image = IMAGE;
  task.command = { ...task.command!, environment: {
    variables: [
      { name: 'MY_SECRET', type: mesos.v1.Environment.Variable.Type.SECRET, secret: { type: mesos.v1.Secret.Type.VALUE, value: { data: Buffer.from(SECRET) } } },
      { name: 'EXPECTED_SECRET_PREFIX', value: 'sekrit-value' },
      { name: 'PLAIN', value: 'visible' },
    ],
  } } as typeof task.command;

  const scans: string[][] = [];
  const scanner = setInterval(() => scans.push(allCommandLines()), 20);
  t.after(() => clearInterval(scanner));
  const record = agent.launch(task, {
    sandboxFiles: { [SEEDED]: JSON.stringify({ auths: { [REGISTRY]: { auth: AUTH_BLOB } } }) },
  });
  const last = await terminal(agent, record, 120_000);
  clearInterval(scanner);
  assert.equal(last.status.state, TaskState.TASK_FINISHED, last.status.message ?? '');
  assert.equal(await exitCode(record), 0);
  assert.equal(sandboxFile(record, 'stdout'), 'secret-ok\nplain=visible\n', 'the container got the secret');

  assert.ok(scans.length > 5);
  for (const scan of scans) for (const line of scan) assertClean(`argv ${JSON.stringify(line.slice(0, 80))}`, line);
  for (const update of record.updates) {
    assertClean('a status message', update.status.message ?? '');
    assertClean('a status data field', Buffer.from(update.status.data ?? []).toString('utf8'));
  }
  for (const file of filesUnder(record.sandbox).filter((name) => name !== SEEDED)) {
    assertClean(`sandbox file ${file}`, readFileSync(join(record.sandbox, file), 'latin1'));
  }
});
