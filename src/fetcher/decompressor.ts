// Decompression of a fetched archive into a byte stream: gzip by Node's zlib; bzip2 and xz by
// Debian's tools, which only ever see pipes (they never touch the file system here), run by
// absolute path with a fixed environment and no shell.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FetchProblem } from './fetch-error.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz';

export interface Decompressed {
  readonly stream: AsyncIterable<Buffer>;
  // Called once the consumer is done with the stream (or failed): stops the tool and reports
  // its failure, if it failed, in preference to the consumer's own error.
  finish(consumerError?: unknown): Promise<void>;
}

const TOOLS: Record<'bzip2' | 'xz', { path: string; args: string[]; pkg: string }> = {
  bzip2: { path: '/usr/bin/bzip2', args: ['-dc'], pkg: 'bzip2' },
  // The memory bound keeps a hostile header from asking for a 1.5 GiB dictionary.
  xz: { path: '/usr/bin/xz', args: ['-dc', '--memlimit-decompress=256MiB'], pkg: 'xz-utils' },
};
const TOOL_ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };
const MAX_STDERR = 4096;

export function decompress(source: Readable, compression: Compression): Decompressed {
  if (compression === 'none') return { stream: source, finish: async (error) => rethrow(error) };
  if (compression === 'gzip') {
    const gunzip = source.pipe(createGunzip());
    return {
      stream: gunzip,
      finish: async (error) => {
        source.destroy();
        gunzip.destroy();
        if (error instanceof FetchProblem || error === undefined) return rethrow(error);
        throw new FetchProblem(`the gzip data is corrupt (${(error as Error).message})`, 'ERR_FETCH_ARCHIVE', { cause: error });
      },
    };
  }
  const tool = TOOLS[compression];
  if (!existsSync(tool.path)) {
    source.destroy();
    throw new FetchProblem(`${tool.path} is missing: install Debian's ${tool.pkg} to extract ${compression} archives`, 'ERR_FETCH_ARCHIVE');
  }
  const child = spawn(tool.path, tool.args, { env: TOOL_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < MAX_STDERR) stderr += chunk.toString('utf8').slice(0, MAX_STDERR - stderr.length);
  });
  // The tool may stop reading early (corrupt data, or we stopped): its stdin closing is no error.
  child.stdin.on('error', () => undefined);
  source.on('error', () => undefined);
  source.pipe(child.stdin);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    stream: child.stdout,
    finish: async (error) => {
      source.unpipe(child.stdin);
      source.destroy();
      const stoppedEarly = child.exitCode === null && child.signalCode === null;
      // The consumer is done: what it left unread (a tar's padding after its end blocks) must not
      // hold the tool's 'close' back, whether the tool has exited or not.
      child.stdout.destroy();
      if (stoppedEarly) child.kill('SIGKILL');
      const result = await exited;
      if (result.error) throw new FetchProblem(`cannot run ${tool.path}: ${result.error.message}`, 'ERR_FETCH_ARCHIVE', { cause: result.error });
      if (!stoppedEarly && result.code !== 0) {
        const said = stderr.trim().split('\n').pop() ?? '';
        throw new FetchProblem(`the ${compression} data is corrupt (${tool.path} exited with status ${result.code}${said ? `: ${said}` : ''})`, 'ERR_FETCH_ARCHIVE');
      }
      rethrow(error);
    },
  };
}

function rethrow(error: unknown): void {
  if (error !== undefined) throw error;
}
