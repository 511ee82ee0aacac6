// HTTP and TCP checks, always against the task's own loopback inside the container's network
// namespace, so they work for host, bridge, user and none networks alike and never send traffic to
// the container's bridge address. With host networking that namespace is the executor's own: the
// probe is a socket from this process. Otherwise a short-lived `nsenter --net` into the namespace
// of the container's process runs curl (HTTP) or bash's /dev/tcp (TCP); it needs root.
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { errorMessage } from '../log.js';
import { httpsModule } from '../rare-builtins.js';
import { helperProgram } from './helper-programs.js';
import type { ProbeResult } from './probe-result.js';
import { runChild, type ChildResult } from './run-child.js';

// Where the container's network lives, from the inspect of the running container.
export interface NetworkTarget {
  readonly hostNetwork: boolean;
  // The container's main process on the host (State.Pid).
  readonly pid: number | undefined;
}

export interface HttpProbe {
  readonly scheme: 'http' | 'https';
  readonly port: number;
  readonly path: string;
  readonly ipv6: boolean;
}

export interface TcpProbe {
  readonly port: number;
  readonly ipv6: boolean;
}

// curl's own default for -L.
const MAX_REDIRECTS = 50;
// bash's exit status when the connection was refused (any other non-zero one is an error).
const TCP_REFUSED_STATUS = 7;

export async function httpProbe(target: NetworkTarget, probe: HttpProbe, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const host = probe.ipv6 ? '[::1]' : '127.0.0.1';
  const url = `${probe.scheme}://${host}:${probe.port}${probe.path}`;
  if (target.hostNetwork) return httpRequest(url, signal);
  const netns = namespacePath(target);
  if (typeof netns !== 'string') return netns;
  const child = await runChild([
    helperProgram('nsenter'), `--net=${netns}`, '--',
    helperProgram('curl'), '-s', '-S', '-L', '-k', '-g', '--noproxy', '*', '-o', '/dev/null', '-w', '%{http_code}',
    ...(timeoutMs > 0 && Number.isFinite(timeoutMs) ? ['--max-time', String(timeoutMs / 1000)] : []),
    url,
  ], signal);
  if (child.exitCode !== 0) return childFailure('curl', child);
  const statusCode = Number.parseInt(child.stdout.trim(), 10);
  if (!Number.isInteger(statusCode)) return { kind: 'error', message: `curl printed an unexpected status code '${child.stdout.trim()}' for ${url}` };
  return { kind: 'http', statusCode };
}

export async function tcpProbe(target: NetworkTarget, probe: TcpProbe, signal: AbortSignal): Promise<ProbeResult> {
  const host = probe.ipv6 ? '::1' : '127.0.0.1';
  if (target.hostNetwork) return tcpConnect(host, probe.port, signal);
  const netns = namespacePath(target);
  if (typeof netns !== 'string') return netns;
  const child = await runChild([
    helperProgram('nsenter'), `--net=${netns}`, '--',
    helperProgram('bash'), '-c', `exec 3<>"/dev/tcp/$1/$2" || exit ${TCP_REFUSED_STATUS}`, 'tcp-check', host, String(probe.port),
  ], signal);
  if (child.exitCode === 0) return { kind: 'tcp', connected: true };
  if (child.exitCode === TCP_REFUSED_STATUS) return { kind: 'tcp', connected: false, detail: lastLine(child.stderr) };
  return childFailure('bash', child);
}

function namespacePath(target: NetworkTarget): string | ProbeResult {
  if (!target.pid) return { kind: 'error', message: 'the container has no process whose network namespace could be entered' };
  const path = `/proc/${target.pid}/ns/net`;
  // The container's process is gone: its exit is reported by the task, not by the check.
  if (!existsSync(path)) return { kind: 'skipped', message: `${path} is gone: the container is no longer running` };
  return path;
}

function childFailure(tool: string, child: ChildResult): ProbeResult {
  const how = child.exitCode !== null ? `exited with status ${child.exitCode}` : `was killed by ${child.signal}`;
  const stderr = lastLine(child.stderr);
  // nsenter's own complaints start with its name; anything else is the tool's.
  const who = stderr.startsWith('nsenter:') ? 'nsenter' : tool;
  return { kind: 'error', message: `${who} ${how}${stderr ? `: ${stderr}` : ''}` };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1]!.trim();
}

// One GET as `curl -L -k` makes it: certificates are not verified, redirects are followed, and the
// status code of the last response is the answer. The body is not read.
async function httpRequest(url: string, signal: AbortSignal): Promise<ProbeResult> {
  let current = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const response = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const options = { method: 'GET', agent: false, signal, headers: { 'User-Agent': 'mesos-docker-executor check', Accept: '*/*' } };
      const request = current.protocol === 'https:'
        ? httpsModule().request(current, { ...options, rejectUnauthorized: false })
        : http.request(current, options);
      request.once('response', (incoming) => {
        resolve({ status: incoming.statusCode ?? 0, location: incoming.headers.location });
        incoming.destroy();
      });
      request.once('error', reject);
      request.end();
    }).catch((error: unknown) => error as Error);
    if (response instanceof Error) {
      if (signal.aborted) throw signal.reason;
      return { kind: 'error', message: `GET ${current.href} failed: ${errorMessage(response)}` };
    }
    if (response.status >= 300 && response.status < 400 && response.location && redirects < MAX_REDIRECTS) {
      current = new URL(response.location, current);
      continue;
    }
    return { kind: 'http', statusCode: response.status };
  }
}

function tcpConnect(host: string, port: number, signal: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ kind: 'tcp', connected: true });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ kind: 'tcp', connected: false, detail: `${host}:${port}: ${error.code ?? error.message}` });
    });
  });
}
