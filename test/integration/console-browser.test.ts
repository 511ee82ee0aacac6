// The console in a real headless browser (Debian's chromium driven by puppeteer-core), served by
// `node dist/agent.js serve` with a token, on real tasks submitted over its API and run in Docker:
// a task shows up and moves to RUNNING and FINISHED, its
// output lines appear within a second of landing in the sandbox, output that looks like markup
// stays text, and the kill button kills. A screenshot is left in test-artifacts/console.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test, type TestContext } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { eventually, shellTask } from '../helpers/harness.js';
import { cleanUpServe, startServe, submit, waitForState } from '../helpers/serve-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

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
  const token = 'console-browser-token-31c9';
  const serve = await startServe(t, { env: { LOCAL_AGENT_AUTHENTICATION_TOKEN: token } });
  cleanUpServe(t, serve.workDir);
  const base = serve.base;
  const auth = { authorization: `Bearer ${token}` };
  const launch = async (command: string): Promise<string> => {
    const task = shellTask(command);
    const response = await submit(base, task, auth);
    assert.equal(response.status, 202, await response.text());
    return task.task_id.value;
  };
  const page = await (await browser(t)).newPage();
  await page.setViewport({ width: 1280, height: 640 });
  await page.goto(`${base}/console?token=${token}`);
  assert.equal(new URL(page.url()).search, '', 'the token is left out of the address');
  await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'live', { timeout: 10_000 });

  // A task that says something looking like markup, waits for a signal, then talks and ends.
  const hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
  const talker = await launch(
    `echo '${hostile}'; while [ ! -f "$MESOS_SANDBOX/go" ]; do sleep 0.05; done; echo 'after go'; echo 'a warning' >&2; sleep 2; echo bye`,
  );
  const sleeper = await launch('i=0; while true; do echo "alive $i"; i=$((i+1)); sleep 1; done');
  for (let i = 0; i < 3; i++) await launch(`echo 'task ${i} at work'; sleep 60`);
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
  const sandbox = (await waitForState(base, talker, 'TASK_RUNNING', 60_000, auth)).sandbox!;
  writeFileSync(join(sandbox, 'go'), '');
  const landed = await eventually('the line in the sandbox', () => (readFileSync(join(sandbox, 'stdout'), 'utf8').includes('after go') ? Date.now() : undefined), 20_000);
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
  await waitForState(base, sleeper, 'TASK_KILLED', 60_000, auth);
  await eventually('KILLED on the page', async () => (await stateOf(page, sleeper)) === 'KILLED', 20_000);

  await waitForState(base, talker, 'TASK_FINISHED', 60_000, auth);
  await eventually('FINISHED on the page', async () => (await stateOf(page, talker)) === 'FINISHED', 20_000);
  assert.match(await paneText(page, talker, 'stdout'), /after go\nbye\n$/);
  await clickIn(page, sleeper, 'tr.task');
  await page.screenshot({ path: screenshotPath() });
});

function screenshotPath(): `${string}.png` {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, 'console.png') as `${string}.png`;
}
