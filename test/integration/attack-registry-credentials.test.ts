// Attack: a task links its sandbox Docker config to another tenant's credentials on the host
// (the file itself, or the whole .docker directory), hoping root reads them for its pull. The
// pull must not use them: the task fails with a message naming the sandbox file, and no status
// or log reveals the host path.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { eventually, removeImage, exitCode, sandboxFile, shellTask, startAgent, states, terminal, withDocker } from '../helpers/harness.js';
import { mesos } from '../../src/proto/generated/mesos.js';

const { TaskState } = mesos.v1;
const { Reason } = mesos.v1.TaskStatus;
const EventType = mesos.v1.executor.Event.Type;
import { REGISTRY } from '../helpers/registry.js';

const IMAGE = `${REGISTRY}/private/busybox:e2e`;
const PASSWORD = 'testpassword';
const CONFIG = JSON.stringify({ auths: { [REGISTRY]: { auth: Buffer.from(`testuser:${PASSWORD}`).toString('base64') } } });

function imagePresent(): Promise<boolean> {
  return withDocker((docker) => docker.hasImage(IMAGE));
}

function removeLocalImage(): Promise<void> {
  return removeImage(IMAGE);
}

// Another tenant's valid credentials, in a host directory outside every sandbox.
function otherTenant(t: TestContext): string {
  const home = mkdtempSync(join(tmpdir(), 'other-tenant-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, '.docker'), { mode: 0o700 });
  writeFileSync(join(home, '.docker', 'config.json'), CONFIG, { mode: 0o600 });
  return join(home, '.docker');
}

const variants: Array<[string, string, (sandbox: string, hostDocker: string) => void]> = [
  ['.docker/config.json is a link to the file', '.docker/config.json', (sandbox, hostDocker) => {
    mkdirSync(join(sandbox, '.docker'));
    symlinkSync(join(hostDocker, 'config.json'), join(sandbox, '.docker', 'config.json'));
  }],
  ['.docker is a link to the directory', '.docker', (sandbox, hostDocker) => {
    symlinkSync(hostDocker, join(sandbox, '.docker'));
  }],
];

for (const [what, named, plant] of variants) {
  test(`a sandbox ${what}: the other tenant's credentials are not used`, { timeout: 180_000 }, async (t) => {
    const hostDocker = otherTenant(t);
    await removeLocalImage();
    const agent = await startAgent(t, { holdLaunch: true });
    const task = shellTask('echo pulled with stolen credentials');
    task.container!.docker!.image = IMAGE;
    const record = agent.launch(task);
    await eventually('the subscription', () => record.state === 'running' || undefined);
    // Planted before LAUNCH, as a task of the same sandbox (or its fetcher) could.
    plant(record.sandbox, hostDocker);
    agent.sendEvent(record.executorId, { type: EventType.LAUNCH, launch: { task } });

    const last = await terminal(agent, record, 120_000);
    assert.equal(last.status.state, TaskState.TASK_FAILED);
    assert.equal(last.status.reason, Reason.REASON_CONTAINER_LAUNCH_FAILED);
    assert.equal(last.status.message, `Cannot use the Docker config: sandbox ${named} is a symbolic link; refusing to follow it`);
    assert.deepEqual(states(record), ['TASK_STARTING', 'TASK_FAILED']);
    assert.equal(await imagePresent(), false, 'nothing was pulled');
    assert.equal(sandboxFile(record, 'stdout'), '');
    assert.equal(await exitCode(record), 0);

    const texts = [sandboxFile(record, 'stderr'), ...record.updates.map((update) => `${update.status.message ?? ''} ${Buffer.from(update.status.data ?? []).toString('latin1')}`)];
    for (const text of texts) {
      assert.ok(!text.includes(hostDocker) && !text.includes('other-tenant-'), `the host path is revealed: ${text}`);
      assert.ok(!text.includes(PASSWORD), 'the password is revealed');
    }
  });
}
