// A Docker daemon that hangs on chosen requests: a proxy on a unix socket in front of the real
// daemon that forwards everything except what `hang` selects, which it never answers. The real
// daemon cannot be made to hang on demand; this can.
import http from 'node:http';
import net from 'node:net';
import { rmSync } from 'node:fs';

export interface DockerProxy {
  readonly socketPath: string;
  readonly hung: string[];
  close(): Promise<void>;
}

export async function startDockerProxy(
  socketPath: string,
  target: string,
  hang: (method: string, url: string) => boolean,
): Promise<DockerProxy> {
  const hung: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    const url = request.url ?? '/';
    if (hang(request.method ?? 'GET', url)) {
      hung.push(`${request.method} ${url}`);
      return;
    }
    const upstream = http.request(
      { socketPath: target, path: url, method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        // The wait endpoint answers its headers at once and its body at exit: pass both on as they come.
        response.flushHeaders();
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    // A client gone (an executor killed mid-stream) ends its request upstream too: a followed
    // stream to the daemon would otherwise outlive everything.
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });
  server.on('upgrade', (request, socket, head) => {
    const url = request.url ?? '/';
    if (hang(request.method ?? 'POST', url)) {
      hung.push(`${request.method} ${url}`);
      return;
    }
    const upstream = net.connect(target, () => {
      const headers = Object.entries(request.headers).map(([key, value]) => `${key}: ${String(value)}`).join('\r\n');
      upstream.write(`${request.method} ${url} HTTP/1.1\r\n${headers}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    hung,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
