// The console page stays responsive with 100 tasks changing all the time: in headless chromium,
// with a source whose 100 tasks change state and health hundreds of times a second, every task
// is listed with its latest state, the page's main thread is never blocked for long, and a task
// opened meanwhile shows its output within a second.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { attachConsole } from '../../src/agent/console/attach-console.js';
import { eventually } from '../helpers/harness.js';
import { MemoryConsoleSource } from '../helpers/memory-console-source.js';

// 100 running tasks whose sandboxes exist.
function churningSource(root: string, count: number): MemoryConsoleSource {
  const source = new MemoryConsoleSource(root);
  for (let i = 0; i < count; i++) {
    source.add(`load-${String(i).padStart(3, '0')}`, 'TASK_RUNNING', { submittedAt: Date.now() + i, runningAt: Date.now(), updates: [] });
  }
  return source;
}

test('100 tasks churning: all listed, the page stays responsive, an opened task shows output within a second', { timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'console-load-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const source = churningSource(root, 100);
  const server = http.createServer((request, response) => {
    if (!attached.handleRequest(request, response)) response.writeHead(404).end();
  });
  const attached = attachConsole(server, source);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    attached.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${base}/console`);
  await page.waitForFunction(() => document.querySelectorAll('tbody[data-task-id]').length === 100, { timeout: 10_000 });

  // The page's main thread: the longest gap between 50 ms ticks while the tasks churn.
  await page.evaluate(() => {
    const probe = window as unknown as { __gap: number; __last: number };
    probe.__gap = 0;
    probe.__last = performance.now();
    setInterval(() => {
      const now = performance.now();
      probe.__gap = Math.max(probe.__gap, now - probe.__last);
      probe.__last = now;
    }, 50);
  });
  const ids = [...source.views.keys()];
  let round = 0;
  const churn = setInterval(() => {
    round += 1;
    for (const id of ids) source.update(id, round % 2 === 0 ? 'TASK_RUNNING' : 'TASK_STARTING', { healthy: round % 3 !== 0 }, 200);
  }, 100);
  t.after(() => clearInterval(churn));

  await new Promise((resolve) => setTimeout(resolve, 1000));
  const opened = ids[42]!;
  await page.evaluate((id) => {
    const body = [...document.querySelectorAll<HTMLElement>('tbody[data-task-id]')].find((element) => element.dataset.taskId === id);
    body!.querySelector<HTMLElement>('tr.task')!.click();
  }, opened);
  await page.waitForFunction(() => document.querySelector('pre.stdout') !== null, { timeout: 5000 });
  const written = Date.now();
  appendFileSync(join(source.views.get(opened)!.sandbox, 'stdout'), 'hello under load\n');
  await page.waitForFunction(() => document.querySelector('pre.stdout')?.textContent?.includes('hello under load'), { polling: 'mutation', timeout: 10_000 });
  const shownAfter = Date.now() - written;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  clearInterval(churn);

  // The last state of every task reaches the page.
  const expected = Object.fromEntries(ids.map((id) => [id, source.views.get(id)!.state.replace('TASK_', '')]));
  await eventually('the final states on the page', async () => {
    const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll<HTMLElement>('tbody[data-task-id]')].map((body) => [body.dataset.taskId, body.querySelector('.state')?.textContent])));
    return ids.every((id) => shown[id] === expected[id]) ? true : undefined;
  }, 10_000);
  const gap = await page.evaluate(() => (window as unknown as { __gap: number }).__gap);
  t.diagnostic(`output shown after ${shownAfter} ms; longest main-thread gap ${Math.round(gap)} ms; ${round} rounds`);
  assert.ok(shownAfter < 1000, `output took ${shownAfter} ms to show under load`);
  assert.ok(gap < 500, `the page's main thread was blocked for ${Math.round(gap)} ms`);
  assert.ok(round >= 10, `the tasks churned (${round} rounds of 100 changes)`);
});
