// The container's output sinks never fail: a full device or a reader gone is lost output,
// counted and reported once; a pipe is written without blocking, with backpressure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { outputSink, type OutputSink } from '../../src/executor/output-sink.js';

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'output-sink-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function sinkOn(fd: number, name = 'stdout', stallMs?: number): { sink: OutputSink; reports: string[]; errors: Error[] } {
  const reports: string[] = [];
  const errors: Error[] = [];
  const sink = outputSink(fd, { name, report: (message) => reports.push(message), ...(stallMs === undefined ? {} : { stallMs }) });
  sink.on('error', (error) => errors.push(error));
  return { sink, reports, errors };
}

function write(sink: OutputSink, chunk: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (sink.write(chunk)) resolve();
    else sink.once('drain', resolve);
  });
}

async function end(sink: OutputSink): Promise<void> {
  await new Promise<void>((resolve) => sink.end(resolve));
}

// A FIFO whose two ends this test holds.
function fifo(t: TestContext, writerFlags = constants.O_WRONLY): { reader: number; writer: number } {
  const path = join(scratch(t), 'fifo');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, writerFlags);
  t.after(() => {
    for (const fd of [reader, writer]) {
      try {
        closeSync(fd);
      } catch {
        // Closed by the test already.
      }
    }
  });
  return { reader, writer };
}

function drain(fd: number): Buffer {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(1 << 16);
  for (;;) {
    try {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, read)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw error;
    }
  }
  return Buffer.concat(chunks);
}

test('a full device loses the bytes, counts them and reports once, never an error', async (t) => {
  const fd = openSync('/dev/full', 'w');
  t.after(() => closeSync(fd));
  const { sink, reports, errors } = sinkOn(fd);
  await write(sink, Buffer.alloc(12345, 'a'));
  await write(sink, 'a diagnostic line\n');
  await write(sink, Buffer.alloc(1000, 'b'));
  await end(sink);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, []);
  assert.equal(sink.lostBytes, 13345, 'container bytes only');
  assert.deepEqual(reports, ["Lost 12345 bytes of the container's stdout: ENOSPC (no space left on device); further losses are counted"]);
  assert.equal(sink.lossSummary(), "In all, 13345 bytes of the container's stdout were lost (first: ENOSPC (no space left on device))");
});

test('a file on a full disk is written again once there is room', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'output-sink-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true });
    t.skip('cannot mount a tmpfs here');
    return;
  }
  const files: number[] = [];
  t.after(() => {
    for (const fd of files) closeSync(fd);
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true });
  });
  const filler = join(dir, 'filler');
  try {
    writeFileSync(filler, Buffer.alloc(1024 * 1024));
  } catch {
    // Full now.
  }
  const fd = openSync(join(dir, 'stdout'), 'a');
  files.push(fd);
  const { sink, reports, errors } = sinkOn(fd);
  await write(sink, Buffer.alloc(8192, 'x'));
  assert.equal(sink.lostBytes, 8192);
  unlinkSync(filler);
  await write(sink, Buffer.from('after\n'));
  await end(sink);
  assert.deepEqual(errors, []);
  assert.equal(reports.length, 1);
  assert.equal(statSync(join(dir, 'stdout')).size, 6);
});

test('a pipe whose reader is gone: lost and counted, reported once, the sink ends', async (t) => {
  const { reader, writer } = fifo(t);
  closeSync(reader);
  const { sink, reports, errors } = sinkOn(writer, 'stderr');
  await write(sink, Buffer.alloc(5000, 'x'));
  await write(sink, Buffer.alloc(3000, 'y'));
  await write(sink, 'diagnostic\n');
  await end(sink);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, []);
  assert.equal(sink.lostBytes, 8000);
  assert.deepEqual(reports, ["Lost 5000 bytes of the container's stderr: EPIPE (broken pipe); further losses are counted"]);
});

test('a pipe whose reader goes away while being written: no error, the rest is counted', async (t) => {
  const { reader, writer } = fifo(t);
  const { sink, reports, errors } = sinkOn(writer);
  const writing = (async () => {
    for (let i = 0; i < 64; i++) await write(sink, Buffer.alloc(64 * 1024, 'z'));
  })();
  await new Promise((resolve) => setTimeout(resolve, 50));
  closeSync(reader);
  await writing;
  await end(sink);
  assert.deepEqual(errors, []);
  assert.ok(sink.lostBytes > 0 && sink.lostBytes <= 64 * 64 * 1024, String(sink.lostBytes));
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /EPIPE \(broken pipe\)/);
});

// The agent's pipe may be non-blocking already (shared with another process): a full pipe is
// waited on, never an EAGAIN error.
test('a full non-blocking pipe applies backpressure, and every byte arrives in order', async (t) => {
  const { reader, writer } = fifo(t, constants.O_WRONLY | constants.O_NONBLOCK);
  const { sink, reports, errors } = sinkOn(writer);
  const payload = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  let backpressure = false;
  const writing = (async () => {
    for (let at = 0; at < payload.length; at += 100_000) {
      if (!sink.write(payload.subarray(at, at + 100_000))) {
        backpressure = true;
        await new Promise((resolve) => sink.once('drain', resolve));
      }
    }
    await end(sink);
  })();
  const received: Buffer[] = [];
  let total = 0;
  const deadline = Date.now() + 20_000;
  while (total < payload.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const chunk = drain(reader);
    received.push(chunk);
    total += chunk.length;
  }
  await writing;
  assert.deepEqual(errors, []);
  assert.deepEqual(reports, []);
  assert.equal(sink.lostBytes, 0);
  assert.ok(backpressure, 'the sink pushed back while the pipe was full');
  assert.ok(Buffer.concat(received).equals(payload));
});

// Docker holds a killed container until its output is read: a reader that takes nothing must
// not hold the executor either. Output is dropped (counted) until the reader takes again.
test('a reader that stops reading is waited for a bounded time, then its output is dropped until it reads again', async (t) => {
  const { reader, writer } = fifo(t);
  const { sink, reports, errors } = sinkOn(writer, 'stdout', 300);
  const started = Date.now();
  for (let i = 0; i < 40; i++) await write(sink, Buffer.alloc(64 * 1024, 'q'));
  assert.ok(Date.now() - started < 10_000, 'the writer was not held');
  assert.ok(sink.lostBytes > 0);
  assert.deepEqual(reports, [`Lost ${64 * 1024} bytes of the container's stdout: its reader stopped taking any; further losses are counted`]);
  // The reader comes back: what was handed over arrives, then output flows again, nothing lost.
  const readUntil = async (done: (text: string) => boolean): Promise<string> => {
    let text = '';
    for (let i = 0; i < 200 && !done(text); i++) {
      text += drain(reader).toString();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return text;
  };
  await readUntil((text) => text.length > 0 && drain(reader).length === 0);
  const lostBefore = sink.lostBytes;
  await write(sink, Buffer.from('after\n'));
  const tail = await readUntil((text) => text.endsWith('after\n'));
  assert.ok(tail.endsWith('after\n'), 'written once the reader reads again');
  assert.equal(sink.lostBytes, lostBefore);
  await end(sink);
  assert.deepEqual(errors, []);
});
