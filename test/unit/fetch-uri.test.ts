import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultFileName, outputFilePath, parseFetchUri, redactUri, scrub, uriSecrets } from '../../src/fetcher/fetch-uri.js';
import { archiveKind, gunzippedName } from '../../src/fetcher/archive-kind.js';
import { formatByteSize, parseByteSize } from '../../src/fetcher/byte-size.js';
import { FetchProblem } from '../../src/fetcher/fetch-error.js';

test('redactUri replaces the userinfo of a URI, and only that', () => {
  const cases: Array<[string, string]> = [
    ['https://user:pass@host/a.tgz', 'https://***@host/a.tgz'],
    ['http://user@127.0.0.1:8080/x', 'http://***@127.0.0.1:8080/x'],
    ['http://u:p%40ss@host/p@th?q=a@b', 'http://***@host/p@th?q=a@b'],
    ['http://u:p@ss@host/x', 'http://***@host/x'],
    ['http://host/path@x', 'http://host/path@x'],
    ['/opt/file.tar', '/opt/file.tar'],
    ['file:///opt/file.tar', 'file:///opt/file.tar'],
  ];
  for (const [value, shown] of cases) assert.equal(redactUri(value), shown, value);
});

test('scrub removes the credentials in any form from a library message', () => {
  const value = 'https://alice:s%3Fcret-pw@host/f';
  assert.deepEqual(uriSecrets(value), ['alice:s%3Fcret-pw', 'alice:s?cret-pw', 's%3Fcret-pw', 's?cret-pw']);
  const text = scrub(`GET ${value} failed; auth alice:s?cret-pw; password s?cret-pw`, value);
  assert.equal(text, 'GET https://***@host/f failed; auth ***; password ***');
  assert.ok(!text.includes('cret'));
});

test('parseFetchUri accepts absolute paths, file://, http:// and https://', () => {
  assert.deepEqual(parseFetchUri('/opt/a.tar'), { kind: 'local', path: '/opt/a.tar' });
  assert.deepEqual(parseFetchUri('file:///opt/a%20b.tar'), { kind: 'local', path: '/opt/a b.tar' });
  assert.deepEqual(parseFetchUri('file://localhost/opt/a.tar'), { kind: 'local', path: '/opt/a.tar' });
  const http = parseFetchUri('http://127.0.0.1:1234/a.tgz?x=1');
  assert.equal(http.kind, 'http');
  assert.equal(http.kind === 'http' && http.url.pathname, '/a.tgz');
  assert.equal(parseFetchUri('HTTPS://host/a').kind, 'http');
});

test('parseFetchUri refuses what it cannot fetch, saying what was expected', () => {
  const cases: Array<[string, RegExp]> = [
    ['relative/path.tar', /expected an absolute path, or a file:\/\/, http:\/\/ or https:\/\/ URI/],
    ['ftp://host/a', /unsupported scheme 'ftp'/],
    ['hdfs://nn/a', /unsupported scheme 'hdfs'/],
    ['file://otherhost/a', /must name a local file \(host 'otherhost' given\)/],
    ['http://[bad', /not a valid URI/],
    ['/a\0b', /NUL/],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => parseFetchUri(value), (error: unknown) => error instanceof FetchProblem && error.code === 'ERR_FETCH_URI' && message.test(error.message), value);
  }
});

test('the default file name is the last path component, query and fragment dropped', () => {
  assert.equal(defaultFileName(parseFetchUri('http://h/a/b/c.tar.gz?sig=1#frag')), 'c.tar.gz');
  assert.equal(defaultFileName(parseFetchUri('http://h/a/my%20file.txt')), 'my file.txt');
  assert.equal(defaultFileName(parseFetchUri('/opt/tools/run.sh')), 'run.sh');
  assert.throws(() => defaultFileName(parseFetchUri('http://h/dir/')), /set output_file/);
  assert.throws(() => defaultFileName(parseFetchUri('http://h')), /set output_file/);
});

test('output_file stays inside the sandbox: absolute names and any .. are refused', () => {
  assert.equal(outputFilePath('.docker/config.json'), '.docker/config.json');
  assert.equal(outputFilePath('./a//b/c'), 'a/b/c');
  for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', '', '.', './']) {
    assert.throws(() => outputFilePath(bad), (error: unknown) => error instanceof FetchProblem && /output_file/.test(error.message), bad);
  }
});

test('archiveKind follows the Mesos fetcher\'s extensions', () => {
  const cases: Array<[string, string | undefined]> = [
    ['a.tar', 'tar'], ['a.tar.gz', 'tar.gz'], ['a.tgz', 'tar.gz'], ['a.tar.bz2', 'tar.bz2'], ['a.tbz2', 'tar.bz2'],
    ['a.tar.xz', 'tar.xz'], ['a.txz', 'tar.xz'], ['A.ZIP', 'zip'], ['notes.txt.gz', 'gz'],
    ['a.txt', undefined], ['run.sh', undefined], ['.gz', undefined], ['a.bz2', undefined],
  ];
  for (const [name, kind] of cases) assert.equal(archiveKind(name), kind, name);
  assert.equal(gunzippedName('notes.txt.gz'), 'notes.txt');
});

test('byte sizes read and print in Mesos units (powers of 1024)', () => {
  assert.deepEqual(parseByteSize('2GB'), { ok: true, bytes: 2 * 1024 ** 3 });
  assert.deepEqual(parseByteSize('512KB'), { ok: true, bytes: 512 * 1024 });
  assert.deepEqual(parseByteSize('10B'), { ok: true, bytes: 10 });
  for (const bad of ['2', '2gb', 'lots', '-1MB']) {
    const parsed = parseByteSize(bad);
    assert.ok(!parsed.ok && parsed.error.includes(`'${bad}'`), bad);
  }
  assert.equal(formatByteSize(1024 ** 3), '1GB');
  assert.equal(formatByteSize(1536), '1536B');
  assert.equal(formatByteSize(3 * 1024 ** 2), '3MB');
});
