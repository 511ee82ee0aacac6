// The external decompressors (bzip2, xz) on real pipes: a consumer that stops before the end of
// the data (a tar reader stops at its end blocks, before the padding) is finished whether the tool
// has exited by then or not.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { decompress } from '../../src/fetcher/decompressor.js';
import { eventually } from '../helpers/harness.js';

// The pids of this process's children running `name`.
function children(name: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return stat.includes(`(${name})`) && Number(fields[1]) === process.pid && fields[0] !== 'Z';
    } catch {
      return false;
    }
  });
}

for (const [compression, tool] of [['bzip2', '/usr/bin/bzip2'], ['xz', '/usr/bin/xz']] as const) {
  test(`${compression}: a consumer that stops early is finished after the tool has exited with output unread`, async () => {
    // 150 KiB out: the pipe and the stream's buffer take it all, so the tool exits with most unread.
    const compressed = execFileSync(tool, ['-c'], { input: Buffer.alloc(150 << 10, 'a') });
    const { stream, finish } = decompress(Readable.from([compressed]), compression);
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.ok(!first.done && first.value.length > 0);
    const name = compression === 'xz' ? 'xz' : 'bzip2';
    await eventually(`${name} to exit`, () => children(name).length === 0 || undefined, 10_000);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      finish().then(() => 'finished'),
      new Promise((resolve) => { timer = setTimeout(() => resolve('hung'), 10_000); }),
    ]);
    clearTimeout(timer);
    assert.equal(finished, 'finished');
  });
}
