// The rotating logger's file handling on real files: byte-exact reassembly of the kept tail, the
// number of old files respected and the oldest dropped, an existing file appended to; and, as
// root in a sandbox the container owns, links, FIFOs and directories planted at the rotated names
// never make it write, truncate or remove anything outside the sandbox.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { RotatingFile, type RotatingFileOptions } from '../../src/logrotate/rotating-file.js';

const HOST_CONTENT = 'another tenant\'s file, not to be touched';

// A sandbox and, beside it, a "host" file the container would like root to overwrite or delete.
function ground(t: TestContext): { sandbox: string; hostFile: string } {
  const root = mkdtempSync(join(tmpdir(), 'rotating-file-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const sandbox = join(root, 'sandbox');
  mkdirSync(sandbox);
  const hostFile = join(root, 'host-file');
  writeFileSync(hostFile, HOST_CONTENT);
  return { sandbox, hostFile };
}

function rotating(sandbox: string, options: Partial<RotatingFileOptions> = {}): { file: RotatingFile; reports: string[] } {
  const reports: string[] = [];
  const file = new RotatingFile({ directory: sandbox, name: 'stdout', maxBytes: 1000, keep: 5, report: (line) => reports.push(line), ...options });
  return { file, reports };
}

// Writes `bytes` in chunks of varied sizes (some larger than the file size).
function feed(file: RotatingFile, bytes: Buffer): void {
  const sizes = [1, 999, 1000, 1001, 37, 4096, 3, 250];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const end = Math.min(bytes.length, offset + sizes[i % sizes.length]!);
    file.write(bytes.subarray(offset, end));
    offset = end;
  }
}

function reassemble(sandbox: string, keep: number): Buffer {
  const parts: Buffer[] = [];
  for (let index = keep; index >= 1; index--) parts.push(readFileSync(join(sandbox, `stdout.${index}`)));
  parts.push(readFileSync(join(sandbox, 'stdout')));
  return Buffer.concat(parts);
}

test('the kept files reassemble byte for byte into the tail of the output', (t) => {
  const { sandbox } = ground(t);
  const output = randomBytes(20_500);
  const { file, reports } = rotating(sandbox);
  feed(file, output);
  assert.equal(file.close(), undefined);
  assert.deepEqual(reports, []);
  assert.deepEqual(readdirSync(sandbox).sort(), ['stdout', 'stdout.1', 'stdout.2', 'stdout.3', 'stdout.4', 'stdout.5']);
  for (let index = 1; index <= 5; index++) assert.equal(lstatSync(join(sandbox, `stdout.${index}`)).size, 1000);
  assert.equal(lstatSync(join(sandbox, 'stdout')).size, 500);
  // The oldest 15,000 bytes were dropped; the rest is exact.
  assert.deepEqual(reassemble(sandbox, 5), output.subarray(output.length - 5500));
  assert.equal(file.rotationCount, 20);
});

test('an exactly full file is not rotated until the next byte', (t) => {
  const { sandbox } = ground(t);
  const { file } = rotating(sandbox, { keep: 2 });
  file.write(Buffer.alloc(2000, 'a'));
  assert.deepEqual(readdirSync(sandbox).sort(), ['stdout', 'stdout.1']);
  assert.equal(lstatSync(join(sandbox, 'stdout')).size, 1000);
  file.write(Buffer.from('b'));
  assert.deepEqual(readdirSync(sandbox).sort(), ['stdout', 'stdout.1', 'stdout.2']);
  assert.equal(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'b');
  file.close();
});

test('rotate 0 keeps only the current file', (t) => {
  const { sandbox } = ground(t);
  const output = randomBytes(3500);
  const { file } = rotating(sandbox, { keep: 0 });
  feed(file, output);
  file.close();
  assert.deepEqual(readdirSync(sandbox), ['stdout']);
  assert.deepEqual(readFileSync(join(sandbox, 'stdout')), output.subarray(3000));
});

test('an existing file is appended to, its size counted (an executor started again)', (t) => {
  const { sandbox } = ground(t);
  writeFileSync(join(sandbox, 'stdout'), 'x'.repeat(900));
  const { file } = rotating(sandbox, { keep: 1 });
  file.write(Buffer.alloc(150, 'y'));
  file.close();
  assert.equal(readFileSync(join(sandbox, 'stdout.1'), 'utf8'), 'x'.repeat(900) + 'y'.repeat(100));
  assert.equal(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'y'.repeat(50));
});

test('a descriptor handed over is written to, and its file rotated', (t) => {
  const { sandbox } = ground(t);
  const fd = openSync(join(sandbox, 'stdout'), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
  const { file } = rotating(sandbox, { keep: 1, fd, maxBytes: 4 });
  file.write(Buffer.from('abcdef'));
  file.close();
  assert.equal(readFileSync(join(sandbox, 'stdout.1'), 'utf8'), 'abcd');
  assert.equal(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'ef');
});

test('attack: links planted at every rotated name are moved or removed, never written through or followed', (t) => {
  const { sandbox, hostFile } = ground(t);
  for (let index = 1; index <= 3; index++) symlinkSync(hostFile, join(sandbox, `stdout.${index}`));
  const output = randomBytes(4500);
  const { file } = rotating(sandbox, { keep: 3 });
  feed(file, output);
  file.close();
  assert.equal(readFileSync(hostFile, 'utf8'), HOST_CONTENT, 'the host file is untouched');
  for (const name of ['stdout', 'stdout.1', 'stdout.2', 'stdout.3']) assert.ok(lstatSync(join(sandbox, name)).isFile(), `${name} is a regular file`);
  // Four rotations moved every link out; the kept files are the output's tail.
  assert.equal(file.rotationCount, 4);
  assert.deepEqual(reassemble(sandbox, 3), output.subarray(1000));
});

test('attack: a link at the oldest name is removed itself, not the file it points at', (t) => {
  const { sandbox, hostFile } = ground(t);
  symlinkSync(hostFile, join(sandbox, 'stdout.2'));
  const { file } = rotating(sandbox, { keep: 2 });
  // The first rotation removes stdout.2 (the link); nothing else is there to move.
  file.write(Buffer.alloc(1001, 'z'));
  file.close();
  assert.equal(readFileSync(hostFile, 'utf8'), HOST_CONTENT);
  assert.deepEqual(readdirSync(sandbox).sort(), ['stdout', 'stdout.1']);
});

test('attack: a link at the current file is replaced by a new file of the logger\'s', (t) => {
  const { sandbox, hostFile } = ground(t);
  symlinkSync(hostFile, join(sandbox, 'stdout'));
  const { file, reports } = rotating(sandbox);
  file.write(Buffer.from('hello\n'));
  file.close();
  assert.equal(readFileSync(hostFile, 'utf8'), HOST_CONTENT);
  assert.ok(lstatSync(join(sandbox, 'stdout')).isFile());
  assert.equal(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'hello\n');
  assert.match(reports.join('\n'), /cannot append to stdout \(a symbolic link\); starting a new one/);
  assert.doesNotMatch(reports.join('\n'), /host-file/, 'a report never says where a link points');
});

test('attack: a FIFO planted at the current file is replaced, never opened for a wait', (t) => {
  const { sandbox } = ground(t);
  execFileSync('mkfifo', [join(sandbox, 'stdout')]);
  const { file } = rotating(sandbox);
  file.write(Buffer.from('after the fifo\n'));
  file.close();
  assert.ok(lstatSync(join(sandbox, 'stdout')).isFile());
  assert.equal(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'after the fifo\n');
});

test('attack: a directory planted at a rotated name costs only the file that would move there', (t) => {
  const { sandbox, hostFile } = ground(t);
  mkdirSync(join(sandbox, 'stdout.2'));
  writeFileSync(join(sandbox, 'stdout.2', 'keep-me'), 'x');
  const output = randomBytes(3500);
  const { file, reports } = rotating(sandbox, { keep: 2 });
  feed(file, output);
  file.close();
  assert.ok(lstatSync(join(sandbox, 'stdout.2')).isDirectory(), 'the directory is not removed');
  assert.equal(readFileSync(join(sandbox, 'stdout.2', 'keep-me'), 'utf8'), 'x');
  // The newest full file and the current one are kept exact; nothing after them is lost.
  assert.deepEqual(Buffer.concat([readFileSync(join(sandbox, 'stdout.1')), readFileSync(join(sandbox, 'stdout'))]), output.subarray(2000));
  assert.match(reports.join('\n'), /cannot rotate stdout\.1 to stdout\.2 \(EISDIR\); removing stdout\.1 instead/);
  assert.equal(readFileSync(hostFile, 'utf8'), HOST_CONTENT);
  assert.equal(file.lostBytes, 0);
});

test('a file that cannot be created loses its bytes, counted, and the logger keeps going', (t) => {
  const { sandbox } = ground(t);
  const { file, reports } = rotating(sandbox, { keep: 0 });
  file.write(Buffer.alloc(1000, 'a'));
  // The container takes the name with a directory of its own: it can be neither removed nor replaced.
  rmSync(join(sandbox, 'stdout'));
  mkdirSync(join(sandbox, 'stdout'));
  writeFileSync(join(sandbox, 'stdout', 'inside'), 'x');
  file.write(Buffer.alloc(10, 'b'));
  file.write(Buffer.alloc(5, 'c'));
  assert.equal(file.lostBytes, 15);
  assert.match(reports.join('\n'), /cannot create stdout: something keeps taking its name; output is lost until it can/);
  assert.equal(reports.length, new Set(reports).size, 'each problem is reported once');
  // Once the name is free again, output lands again.
  rmSync(join(sandbox, 'stdout'), { recursive: true });
  file.write(Buffer.from('back'));
  assert.equal(readFileSync(join(sandbox, 'stdout'), 'utf8'), 'back');
  assert.equal(file.close(), 'stdout: in all, 15 bytes of output were lost');
});
