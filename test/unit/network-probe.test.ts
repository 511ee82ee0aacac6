// The host-network probes against real servers on port 0 (no container needed: with host
// networking the task's loopback is ours).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpProbe, tcpProbe } from '../../src/checks/network-probe.js';

const HOST = { hostNetwork: true, pid: undefined };

async function server(t: TestContext, handler: http.RequestListener): Promise<number> {
  const instance = http.createServer(handler);
  await new Promise<void>((resolve) => instance.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => instance.close(() => resolve())));
  return (instance.address() as net.AddressInfo).port;
}

async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test('HTTP: the status of the last response after following redirects, like curl -L', async (t) => {
  const paths: string[] = [];
  const port = await server(t, (request, response) => {
    paths.push(request.url ?? '');
    if (request.url === '/old') response.writeHead(302, { Location: '/new' }).end();
    else if (request.url === '/new') response.writeHead(204).end();
    else response.writeHead(503).end('down');
  });
  const signal = new AbortController().signal;
  assert.deepEqual(await httpProbe(HOST, { scheme: 'http', port, path: '/old', ipv6: false }, 1000, signal), { kind: 'http', statusCode: 204 });
  assert.deepEqual(paths, ['/old', '/new']);
  assert.deepEqual(await httpProbe(HOST, { scheme: 'http', port, path: '', ipv6: false }, 1000, signal), { kind: 'http', statusCode: 503 });
});

test('HTTPS: the certificate is not verified, like curl -k', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'https-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const instance = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_request, response) => {
    response.writeHead(202).end();
  });
  await new Promise<void>((resolve) => instance.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => instance.close(() => resolve())));
  const { port } = instance.address() as net.AddressInfo;
  const signal = new AbortController().signal;
  assert.deepEqual(await httpProbe(HOST, { scheme: 'https', port, path: '/', ipv6: false }, 5000, signal), { kind: 'http', statusCode: 202 });
});

test('HTTP: nothing listening is an error naming the address', async () => {
  const port = await unusedPort();
  const result = await httpProbe(HOST, { scheme: 'http', port, path: '/', ipv6: false }, 1000, new AbortController().signal);
  assert.equal(result.kind, 'error');
  assert.match(result.kind === 'error' ? result.message : '', new RegExp(`GET http://127\\.0\\.0\\.1:${port}/ failed: .*ECONNREFUSED`));
});

test('HTTP: an abort ends a request that never answers', async (t) => {
  const port = await server(t, () => undefined);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('timed out')), 100);
  const started = Date.now();
  await assert.rejects(httpProbe(HOST, { scheme: 'http', port, path: '/', ipv6: false }, 0, controller.signal), /timed out/);
  assert.ok(Date.now() - started < 1000);
});

test('TCP: connected or not', async (t) => {
  const listening = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => listening.close(() => resolve())));
  const port = (listening.address() as net.AddressInfo).port;
  const signal = new AbortController().signal;
  assert.deepEqual(await tcpProbe(HOST, { port, ipv6: false }, signal), { kind: 'tcp', connected: true });
  const closed = await unusedPort();
  const refused = await tcpProbe(HOST, { port: closed, ipv6: false }, signal);
  assert.deepEqual(refused, { kind: 'tcp', connected: false, detail: `127.0.0.1:${closed}: ECONNREFUSED` });
});

test('outside host networking, a container whose process is gone is skipped, not failed', async () => {
  const result = await tcpProbe({ hostNetwork: false, pid: 2 ** 22 + 1 }, { port: 80, ipv6: false }, new AbortController().signal);
  assert.equal(result.kind, 'skipped');
});
