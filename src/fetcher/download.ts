// Copies what a URI names into a file this process holds open: a local file, or an HTTP(S)
// download with redirects followed (at most 5, to http or https only), credentials from the URI
// sent as Basic authentication to the URI's own origin only, a size bound checked against
// Content-Length and against the bytes that arrive, and a stall bound between chunks.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { formatByteSize } from './byte-size.js';
import { FetchProblem } from './fetch-error.js';
import type { FetchSource } from './fetch-uri.js';
import { formatDuration } from '../config/duration.js';

export interface DownloadOptions {
  readonly maxBytes: number;
  readonly stallTimeoutMs: number;
  readonly signal: AbortSignal;
  readonly onProgress?: (received: number, total: number | undefined) => void;
}

const MAX_REDIRECTS = 5;

export async function download(source: FetchSource, sink: FileHandle, options: DownloadOptions): Promise<number> {
  return source.kind === 'local' ? copyLocal(source.path, sink, options) : downloadHttp(source.url, sink, options);
}

async function copyLocal(path: string, sink: FileHandle, options: DownloadOptions): Promise<number> {
  let file: FileHandle;
  try {
    // O_NONBLOCK: a FIFO named by the URI is refused below instead of hanging the open.
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FetchProblem(code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (error as Error).message})`, 'ERR_FETCH_SOURCE');
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new FetchProblem('not a regular file', 'ERR_FETCH_SOURCE');
    if (stats.size > options.maxBytes) throw tooBig(options.maxBytes, stats.size);
    return await copyChunks(file.createReadStream({ autoClose: false }), sink, stats.size, options);
  } finally {
    await file.close();
  }
}

async function copyChunks(chunks: AsyncIterable<Buffer>, sink: FileHandle, total: number | undefined, options: DownloadOptions): Promise<number> {
  let received = 0;
  for await (const chunk of chunks) {
    options.signal.throwIfAborted();
    received += chunk.length;
    if (received > options.maxBytes) throw tooBig(options.maxBytes);
    await sink.write(chunk);
    options.onProgress?.(received, total);
  }
  return received;
}

async function downloadHttp(first: URL, sink: FileHandle, options: DownloadOptions): Promise<number> {
  const authorization = basicAuth(first);
  let url = first;
  for (let redirects = 0; ; redirects++) {
    const response = await request(url, first.origin === url.origin ? authorization : undefined, options);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      response.resume();
      if (redirects === MAX_REDIRECTS) throw new FetchProblem(`more than ${MAX_REDIRECTS} redirects`, 'ERR_FETCH_SOURCE');
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new FetchProblem(`redirected to a ${next.protocol.slice(0, -1)} URI; only http and https are followed`, 'ERR_FETCH_SOURCE');
      }
      url = next;
      continue;
    }
    if (status < 200 || status >= 300) {
      response.resume();
      throw new FetchProblem(`the server answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`, 'ERR_FETCH_SOURCE');
    }
    const length = response.headers['content-length'];
    const total = length !== undefined && /^[0-9]+$/.test(length) ? Number(length) : undefined;
    if (total !== undefined && total > options.maxBytes) {
      response.destroy();
      throw tooBig(options.maxBytes, total);
    }
    const stall = new StallTimer(options.stallTimeoutMs, () => response.destroy(new FetchProblem(`no data for ${formatDuration(options.stallTimeoutMs)} (--fetcher_stall_timeout)`, 'ERR_FETCH_TIMEOUT')));
    const abort = (): void => {
      response.destroy(options.signal.reason as Error);
    };
    options.signal.addEventListener('abort', abort, { once: true });
    try {
      const received = await copyChunks(withStall(response, stall), sink, total, options);
      if (total !== undefined && received < total) throw new FetchProblem(`the connection closed after ${received} of ${total} bytes`, 'ERR_FETCH_SOURCE');
      return received;
    } catch (error) {
      response.destroy();
      if (error instanceof FetchProblem || options.signal.aborted) throw error;
      throw new FetchProblem(`the download broke off (${describe(error)})`, 'ERR_FETCH_SOURCE', { cause: error });
    } finally {
      stall.stop();
      options.signal.removeEventListener('abort', abort);
    }
  }
}

async function* withStall(response: http.IncomingMessage, stall: StallTimer): AsyncGenerator<Buffer> {
  stall.reset();
  for await (const chunk of response) {
    stall.reset();
    yield chunk as Buffer;
  }
}

function request(url: URL, authorization: string | undefined, options: DownloadOptions): Promise<http.IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // The URL's userinfo is never handed to the client library: it goes only into the header.
    const req = client.request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { 'User-Agent': 'mesos-fetcher', Accept: '*/*', ...(authorization ? { Authorization: authorization } : {}) },
      signal: options.signal,
    });
    const stall = new StallTimer(options.stallTimeoutMs, () => req.destroy(new FetchProblem(`no answer for ${formatDuration(options.stallTimeoutMs)} (--fetcher_stall_timeout)`, 'ERR_FETCH_TIMEOUT')));
    stall.reset();
    req.once('response', (response) => {
      stall.stop();
      resolve(response);
    });
    req.once('error', (error) => {
      stall.stop();
      if (error instanceof FetchProblem) return reject(error);
      if (options.signal.aborted) return reject(options.signal.reason);
      reject(new FetchProblem(connectionFailure(error as NodeJS.ErrnoException, url), 'ERR_FETCH_SOURCE', { cause: error }));
    });
    req.end();
  });
}

function connectionFailure(error: NodeJS.ErrnoException, url: URL): string {
  const where = url.host;
  switch (error.code) {
    case 'ECONNREFUSED': return `connection to ${where} refused`;
    case 'ENOTFOUND': case 'EAI_AGAIN': return `cannot resolve the host ${url.hostname}`;
    case 'ECONNRESET': return `connection to ${where} reset`;
    case 'EHOSTUNREACH': case 'ENETUNREACH': return `${where} is unreachable`;
    default: return `cannot connect to ${where} (${describe(error)})`;
  }
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message ?? String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

// user:password from the URI as a Basic credential (what curl, and so the Mesos fetcher, sends).
function basicAuth(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const credential = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return `Basic ${Buffer.from(credential, 'utf8').toString('base64')}`;
}

function tooBig(maxBytes: number, size?: number): FetchProblem {
  const what = size === undefined ? 'larger than' : `${size} bytes, over`;
  return new FetchProblem(`it is ${what} the ${formatByteSize(maxBytes)} bound (--fetcher_max_size)`, 'ERR_FETCH_TOO_BIG');
}

class StallTimer {
  private timer: NodeJS.Timeout | undefined;
  private readonly ms: number;
  private readonly fire: () => void;

  constructor(ms: number, fire: () => void) {
    this.ms = ms;
    this.fire = fire;
  }

  reset(): void {
    this.stop();
    this.timer = setTimeout(this.fire, this.ms);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
