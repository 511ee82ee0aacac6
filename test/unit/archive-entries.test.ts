import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { entryPath, hardlinkTarget, symlinkTarget } from '../../src/fetcher/entry-path.js';
import { extractArchive } from '../../src/fetcher/extract.js';
import { FetchProblem } from '../../src/fetcher/fetch-error.js';
import { SandboxWriter } from '../../src/fetcher/sandbox-writer.js';
import { readTar } from '../../src/fetcher/tar-reader.js';
import { buildTar, type TarSpec } from '../helpers/tar-builder.js';

const refusedArchive = (pattern: RegExp) => (error: unknown) => error instanceof FetchProblem && error.code === 'ERR_FETCH_ARCHIVE' && pattern.test(error.message);

test('entryPath normalises names and refuses absolute ones, .. components and NUL bytes', () => {
  assert.equal(entryPath('./a/b.txt'), 'a/b.txt');
  assert.equal(entryPath('a//b/'), 'a/b');
  assert.equal(entryPath('./'), '');
  assert.throws(() => entryPath('/etc/passwd'), refusedArchive(/'\/etc\/passwd' is an absolute name/));
  assert.throws(() => entryPath('../x'), refusedArchive(/'\.\.\/x' has a '\.\.' component/));
  assert.throws(() => entryPath('a/../b'), refusedArchive(/'\.\.' component/));
  assert.throws(() => entryPath('a\0b'), refusedArchive(/NUL/));
  assert.throws(() => entryPath('bad\nname/../x'), refusedArchive(/'bad\?name\/\.\.\/x'/));
});

test('a symbolic link may point anywhere inside the root, never above it or to an absolute path', () => {
  assert.equal(symlinkTarget('a/link', 'b.txt'), 'b.txt');
  assert.equal(symlinkTarget('a/b/link', '../../top.txt'), '../../top.txt');
  assert.equal(symlinkTarget('link', '.'), '.');
  assert.throws(() => symlinkTarget('a/link', '../../x'), refusedArchive(/points outside the sandbox/));
  assert.throws(() => symlinkTarget('link', '..'), refusedArchive(/points outside the sandbox/));
  assert.throws(() => symlinkTarget('link', '/etc/shadow'), refusedArchive(/absolute path '\/etc\/shadow'/));
  assert.throws(() => symlinkTarget('link', ''), refusedArchive(/empty/));
  assert.equal(hardlinkTarget('b', './a/f'), 'a/f');
  assert.throws(() => hardlinkTarget('b', '/etc/shadow'), refusedArchive(/hard link to '\/etc\/shadow'/));
  assert.throws(() => hardlinkTarget('b', '../x'), refusedArchive(/hard link/));
});

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

test('the tar reader reads names, types, modes, long pax names and bodies across chunk borders', async () => {
  const long = `${'d'.repeat(120)}/file.txt`;
  const tar = buildTar([
    { name: 'dir/', type: '5' },
    { name: 'dir/a.txt', content: 'alpha\n', mode: 0o4755 },
    { name: 'dir/link', type: '2', linkname: 'a.txt' },
    { name: 'hard', type: '1', linkname: 'dir/a.txt' },
    { name: long, content: Buffer.alloc(1500, 7) },
  ]);
  const seen: Array<[string, string, number, string, number]> = [];
  for await (const entry of readTar(chunked(tar, 37))) {
    let bytes = 0;
    for await (const chunk of entry.body) bytes += chunk.length;
    seen.push([entry.name, entry.type, entry.mode, entry.linkname, bytes]);
  }
  assert.deepEqual(seen, [
    ['dir/', 'directory', 0o755, '', 0],
    ['dir/a.txt', 'file', 0o4755, '', 6],
    ['dir/link', 'symlink', 0o644, 'a.txt', 0],
    ['hard', 'hardlink', 0o644, 'dir/a.txt', 0],
    [long, 'file', 0o644, '', 1500],
  ]);
});

test('the tar reader refuses devices, FIFOs, bad checksums and truncation', async () => {
  const drain = async (data: Buffer): Promise<void> => {
    for await (const entry of readTar(chunked(data, 512))) for await (const _ of entry.body) void _;
  };
  await assert.rejects(drain(buildTar([{ name: 'null', type: '3' }])), refusedArchive(/'null' has type '3' \(character device\)/));
  await assert.rejects(drain(buildTar([{ name: 'pipe', type: '6' }])), refusedArchive(/FIFO/));
  const corrupt = buildTar([{ name: 'a', content: 'x' }]);
  corrupt[0] = 0x42;
  await assert.rejects(drain(corrupt), refusedArchive(/checksum/));
  await assert.rejects(drain(buildTar([{ name: 'a', content: 'x'.repeat(2000) }]).subarray(0, 1024)), refusedArchive(/truncated/));
  await assert.rejects(drain(Buffer.from('not a tar at all')), refusedArchive(/truncated inside a header/));
});

async function extractTo(root: string, entries: readonly TarSpec[], options: { maxBytes?: number; gzip?: boolean } = {}) {
  const archivePath = join(root, options.gzip ? 'a.tar.gz' : 'a.tar');
  const data = buildTar(entries);
  writeFileSync(archivePath, options.gzip ? gzipSync(data) : data);
  const handle = await open(archivePath, 'r');
  try {
    return await extractArchive(options.gzip ? 'tar.gz' : 'tar', handle, (await handle.stat()).size, 'a.tar', new SandboxWriter(root), {
      maxBytes: options.maxBytes ?? 1024 ** 2, maxEntries: 1000, signal: new AbortController().signal,
    });
  } finally {
    await handle.close();
  }
}

test('extraction writes files, directories and inside links, dropping set-user-ID bits', async () => {
  const root = mkdtempSync(join(tmpdir(), 'extract-'));
  const result = await extractTo(root, [
    { name: 'dir/', type: '5' },
    { name: 'dir/a.txt', content: 'alpha\n', mode: 0o4755 },
    { name: 'dir/link', type: '2', linkname: 'a.txt' },
    { name: 'hard', type: '1', linkname: 'dir/a.txt' },
    { name: 'dir/a.txt', content: 'replaced\n' },
  ], { gzip: true });
  assert.deepEqual(result, { entries: 5, bytes: 15 });
  assert.equal(readFileSync(join(root, 'dir/a.txt'), 'utf8'), 'replaced\n');
  assert.equal(lstatSync(join(root, 'dir/a.txt')).mode & 0o7777, 0o644);
  assert.equal(readlinkSync(join(root, 'dir/link')), 'a.txt');
  assert.equal(readFileSync(join(root, 'hard'), 'utf8'), 'alpha\n');
  assert.ok(!readdirSync(join(root, 'dir')).some((name) => name.includes('.fetch-')), 'no temporary file left');
});

test('extraction never writes outside the root: a link it made, or one already there, is not followed', async () => {
  const outside = mkdtempSync(join(tmpdir(), 'outside-'));
  const root = mkdtempSync(join(tmpdir(), 'extract-'));
  // An inside link to a directory, then an entry through it: refused, not followed.
  await assert.rejects(extractTo(root, [
    { name: 'sub/', type: '5' },
    { name: 'via', type: '2', linkname: 'sub' },
    { name: 'via/x.txt', content: 'x' },
  ]), (error: unknown) => error instanceof FetchProblem && /'via' in the sandbox is a symbolic link; refusing to write through it/.test(error.message));
  // A link planted in the root (as by an earlier URI) to a directory outside.
  const planted = mkdtempSync(join(tmpdir(), 'extract-'));
  symlinkSync(outside, join(planted, 'out'));
  await assert.rejects(extractTo(planted, [{ name: 'out/pwned', content: 'x' }]), /symbolic link; refusing to write through it/);
  // A file entry whose name is a planted link to a file outside replaces the link, not the file.
  writeFileSync(join(outside, 'victim'), 'safe');
  symlinkSync(join(outside, 'victim'), join(planted, 'victim'));
  await extractTo(planted, [{ name: 'victim', content: 'overwritten' }]);
  assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'safe');
  assert.equal(readFileSync(join(planted, 'victim'), 'utf8'), 'overwritten');
  assert.ok(lstatSync(join(planted, 'victim')).isFile());
  assert.deepEqual(readdirSync(outside), ['victim']);
  // A hard link to a link (which would reach outside) is refused.
  symlinkSync(join(outside, 'victim'), join(planted, 'to-outside'));
  await assert.rejects(extractTo(planted, [{ name: 'h', type: '1', linkname: 'to-outside' }]), /not a file extracted before it/);
});

test('extraction stops at the size bound, however small the archive', async () => {
  const root = mkdtempSync(join(tmpdir(), 'extract-'));
  await assert.rejects(extractTo(root, [{ name: 'big', content: Buffer.alloc(300_000) }], { maxBytes: 100_000, gzip: true }),
    (error: unknown) => error instanceof FetchProblem && error.code === 'ERR_FETCH_TOO_BIG' && /expands to more than 100000B \(--fetcher_max_extracted_size\)/.test(error.message));
  assert.ok(!readdirSync(root).includes('big'));
});
