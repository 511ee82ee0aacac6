// The console in a real headless browser (Debian's chromium driven by puppeteer-core), on real
// tasks run by the local agent in Docker: a task shows up and moves to RUNNING and FINISHED, its
// output lines appear within a second of landing in the sandbox, output that looks like markup
// stays text, and the kill button kills. A screenshot is left in test-artifacts/console.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { attachConsole } from '../../src/agent/console/attach-console.js';
import type { ConsoleSource, TaskView } from '../../src/agent/serve/console-source.js';
import type { LocalAgent, ReceivedUpdate } from '../../src/agent/local-agent.js';
import { mesos } from '../../src/proto/generated/mesos.js';
import { isTerminalState, stateName } from '../../src/executor/task-states.js';
import { eventually, shellTask, startAgent, terminal } from '../helpers/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

// Tasks of a local agent as the console sees them.
class AgentSource implements ConsoleSource {
  private readonly agent: LocalAgent;
  private readonly views = new Map<string, TaskView>();
  private readonly listeners = new Set<(task: TaskView) => void>();

  constructor(agent: LocalAgent) {
    this.agent = agent;
    agent.on('update', (update: ReceivedUpdate) => {
      if (update.duplicate) return;
      const view = this.views.get(update.executorId);
      if (!view) return;
      const status = update.status;
      const state = stateName(status.state);
      // Only the fields the update carries (proto2 defaults live on the prototype).
      const has = (field: string): boolean => Object.hasOwn(status, field);
      const entry = {
        state,
        timestamp: status.timestamp ? Math.round(status.timestamp * 1000) : Date.now(),
        ...(has('healthy') ? { healthy: status.healthy! } : {}),
        ...(has('message') ? { message: status.message! } : {}),
        ...(has('reason') ? { reason: mesos.v1.TaskStatus.Reason[status.reason!] } : {}),
        ...(has('source') ? { source: mesos.v1.TaskStatus.Source[status.source!] } : {}),
      };
      const next: TaskView = {
        ...view,
        state,
        healthy: entry.healthy ?? view.healthy,
        message: entry.message,
        reason: entry.reason,
        runningAt: view.runningAt ?? (state === 'TASK_RUNNING' ? entry.timestamp : undefined),
        endedAt: isTerminalState(status.state) ? entry.timestamp : view.endedAt,
        updates: [...view.updates, entry],
      };
      this.changed(next);
    });
  }

  launch(command: string): string {
    const record = this.agent.launch(shellTask(command));
    this.changed({ taskId: record.executorId, executorId: record.executorId, state: 'TASK_STAGING', sandbox: record.sandbox, submittedAt: Date.now(), updates: [] });
    return record.executorId;
  }

  private changed(view: TaskView): void {
    this.views.set(view.taskId, view);
    for (const listener of this.listeners) listener(view);
  }

  tasks(): TaskView[] {
    return [...this.views.values()];
  }

  onChange(listener: (task: TaskView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  sandboxOf(taskId: string): string | undefined {
    return this.views.get(taskId)?.sandbox;
  }

  kill(taskId: string, gracePeriodMs?: number): boolean {
    return this.views.has(taskId) && this.agent.kill(taskId, gracePeriodMs);
  }
}

async function consoleServer(t: TestContext, source: ConsoleSource, token: string): Promise<string> {
  const server = http.createServer((request, response) => {
    if (!attached.handleRequest(request, response)) response.writeHead(404).end();
  });
  const attached = attachConsole(server, source, { token });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    attached.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function browser(t: TestContext): Promise<Browser> {
  const launched = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  t.after(() => launched.close());
  return launched;
}

// The text of a cell of a task's row, or of its stdout pane.
function stateOf(page: Page, taskId: string): Promise<string | undefined> {
  return page.evaluate((id) => {
    const body = [...document.querySelectorAll<HTMLElement>('tbody[data-task-id]')].find((element) => element.dataset.taskId === id);
    return body?.querySelector('.state')?.textContent ?? undefined;
  }, taskId);
}

function paneText(page: Page, taskId: string, stream: string): Promise<string> {
  return page.evaluate((id, name) => {
    const body = [...document.querySelectorAll<HTMLElement>('tbody[data-task-id]')].find((element) => element.dataset.taskId === id);
    return body?.querySelector(`pre.${name}`)?.textContent ?? '';
  }, taskId, stream);
}

async function clickIn(page: Page, taskId: string, selector: string): Promise<void> {
  const clicked = await page.evaluate((id, inner) => {
    const body = [...document.querySelectorAll<HTMLElement>('tbody[data-task-id]')].find((element) => element.dataset.taskId === id);
    const target = body?.querySelector<HTMLElement>(inner);
    target?.click();
    return target !== undefined && target !== null;
  }, taskId, selector);
  assert.ok(clicked, `${selector} of ${taskId} is on the page`);
}

test('the console in a browser: tasks move through their states, output is live and stays text, the kill button kills', { timeout: 180_000 }, async (t) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is installed (Debian's chromium)`);
  const agent = await startAgent(t);
  const source = new AgentSource(agent);
  const token = 'console-browser-token-31c9';
  const base = await consoleServer(t, source, token);
  const page = await (await browser(t)).newPage();
  await page.setViewport({ width: 1280, height: 640 });
  await page.goto(`${base}/console?token=${token}`);
  assert.equal(new URL(page.url()).search, '', 'the token is gone from the address');
  await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'live', { timeout: 10_000 });

  // A task that says something looking like markup, waits for a signal, then talks and ends.
  const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
  const talker = source.launch(
    `echo '${hostile}'; while [ ! -f "$MESOS_SANDBOX/go" ]; do sleep 0.05; done; echo 'after go'; echo 'a warning' >&2; sleep 2; echo bye`,
  );
  const sleeper = source.launch('i=0; while true; do echo "alive $i"; i=$((i+1)); sleep 1; done');
  for (let i = 0; i < 3; i++) source.launch(`echo 'task ${i} at work'; sleep 60`);
  await page.waitForFunction((id) => [...document.querySelectorAll<HTMLElement>('tbody[data-task-id]')].some((element) => element.dataset.taskId === id), { timeout: 10_000 }, talker);
  await eventually('the talker RUNNING on the page', async () => (await stateOf(page, talker)) === 'RUNNING', 60_000);

  await clickIn(page, talker, 'tr.task');
  await eventually('the markup-like line shown as text', async () => (await paneText(page, talker, 'stdout')).includes(hostile), 10_000);
  const injected = await page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
    elements: document.querySelectorAll('pre.log img, pre.log script').length,
  }));
  assert.deepEqual(injected, { pwned: null, elements: 0 }, 'task output never becomes markup or script');

  // A line appears on the page within a second of landing in the sandbox file.
  const record = agent.executor(talker);
  writeFileSync(join(record.sandbox, 'go'), '');
  const landed = await eventually('the line in the sandbox', () => (readFileSync(join(record.sandbox, 'stdout'), 'utf8').includes('after go') ? Date.now() : undefined), 20_000);
  await page.waitForFunction((id) => {
    const body = [...document.querySelectorAll<HTMLElement>('tbody[data-task-id]')].find((element) => element.dataset.taskId === id);
    return body?.querySelector('pre.stdout')?.textContent?.includes('after go');
  }, { polling: 'mutation', timeout: 10_000 }, talker);
  const shown = Date.now();
  assert.ok(shown - landed < 1000, `the line took ${shown - landed} ms to appear`);
  await eventually('stderr shown', async () => (await paneText(page, talker, 'stderr')).includes('a warning'), 10_000);

  // The kill button.
  await clickIn(page, sleeper, 'tr.task');
  await eventually('the sleeper talking', async () => /alive 1/.test(await paneText(page, sleeper, 'stdout')), 30_000);
  await clickIn(page, sleeper, 'button.kill');
  const killed = await terminal(agent, agent.executor(sleeper));
  assert.equal(stateName(killed.status.state), 'TASK_KILLED');
  await eventually('KILLED on the page', async () => (await stateOf(page, sleeper)) === 'KILLED', 20_000);

  await terminal(agent, record);
  await eventually('FINISHED on the page', async () => (await stateOf(page, talker)) === 'FINISHED', 20_000);
  assert.match(await paneText(page, talker, 'stdout'), /after go\nbye\n$/);
  await clickIn(page, sleeper, 'tr.task');
  await page.screenshot({ path: screenshotPath() });
});

function screenshotPath(): `${string}.png` {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, 'console.png') as `${string}.png`;
}
