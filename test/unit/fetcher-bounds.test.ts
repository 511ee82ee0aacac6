// The fetcher's time bounds against a loopback server that stalls or trickles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchUri } from '../../src/fetcher/fetcher.js';
import { FetchError } from '../../src/fetcher/fetch-error.js';

async function server(t: import('node:test').TestContext, handler: http.RequestListener): Promise<string> {
  const srv = http.createServer(handler);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  t.after(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

test('a server that never answers, or stops sending, is given up after --fetcher_stall_timeout', async (t) => {
  const origin = await server(t, (request, response) => {
    if (request.url === '/silent') return;
    response.writeHead(200, { 'Content-Length': '100' });
    response.write('partial');
  });
  const sandbox = mkdtempSync(join(tmpdir(), 'fetch-bounds-'));
  const settings = { stallTimeoutMs: 300 };
  await assert.rejects(fetchUri({ value: `${origin}/silent` }, { sandbox, settings }),
    (error: unknown) => error instanceof FetchError && error.code === 'ERR_FETCH_TIMEOUT' && /no answer for 300ms \(--fetcher_stall_timeout\)$/.test(error.message));
  await assert.rejects(fetchUri({ value: `${origin}/partial` }, { sandbox, settings }),
    (error: unknown) => error instanceof FetchError && error.code === 'ERR_FETCH_TIMEOUT' && /no data for 300ms \(--fetcher_stall_timeout\)$/.test(error.message));
  assert.deepEqual(readdirSync(sandbox), [], 'no partial file left');
});

test('a download that keeps trickling is given up after --fetcher_timeout', async (t) => {
  const origin = await server(t, (_request, response) => {
    response.writeHead(200);
    const timer = setInterval(() => response.write('.'), 50);
    response.on('close', () => clearInterval(timer));
  });
  const sandbox = mkdtempSync(join(tmpdir(), 'fetch-bounds-'));
  const started = Date.now();
  await assert.rejects(fetchUri({ value: `${origin}/trickle` }, { sandbox, settings: { timeoutMs: 500, stallTimeoutMs: 5000 } }),
    (error: unknown) => error instanceof FetchError && error.code === 'ERR_FETCH_TIMEOUT' && /it took longer than 500ms \(--fetcher_timeout\)$/.test(error.message));
  assert.ok(Date.now() - started < 3000);
});
