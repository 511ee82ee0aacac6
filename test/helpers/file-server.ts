// A small HTTP server on 127.0.0.1, port 0, serving files the test gives it, counting requests,
// and asking for Basic credentials on the paths that need them.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface ServedFile {
  readonly body: Buffer | string;
  // "user:password" the request must carry as Basic authentication.
  readonly credentials?: string;
  // Send no Content-Length (chunked), so that only the bytes that arrive tell the size.
  readonly chunked?: boolean;
}

export interface FileServer {
  readonly origin: string;
  readonly port: number;
  // Every request's path, in order.
  readonly requests: string[];
  // Every Authorization header seen.
  readonly authorizations: string[];
  close(): Promise<void>;
}

export async function serveFiles(t: TestContext, files: Readonly<Record<string, ServedFile | Buffer | string>>): Promise<FileServer> {
  const requests: string[] = [];
  const authorizations: string[] = [];
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0]!;
    requests.push(path);
    if (request.headers.authorization) authorizations.push(request.headers.authorization);
    const found = files[path];
    if (found === undefined) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const file: ServedFile = typeof found === 'string' || Buffer.isBuffer(found) ? { body: found } : found;
    if (file.credentials !== undefined && request.headers.authorization !== `Basic ${Buffer.from(file.credentials).toString('base64')}`) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const body = Buffer.from(file.body);
    response.writeHead(200, file.chunked ? { 'Content-Type': 'application/octet-stream' } : { 'Content-Length': body.length });
    response.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.after(close);
  return { origin: `http://127.0.0.1:${port}`, port, requests, authorizations, close };
}

// A loopback port nothing listens on (taken, then released).
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
