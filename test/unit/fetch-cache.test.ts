import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheKey, FetchCache, planEviction, type CacheEntry } from '../../src/fetcher/fetch-cache.js';
import { FetchProblem } from '../../src/fetcher/fetch-error.js';

const entry = (key: string, size: number, lastUsedMs: number): CacheEntry => ({ key, size, lastUsedMs });

test('planEviction removes least recently used entries until the new one fits', () => {
  const entries = [entry('b', 40, 2), entry('a', 30, 1), entry('c', 20, 3)];
  assert.deepEqual(planEviction(entries, 10, 100), []);
  assert.deepEqual(planEviction(entries, 20, 100), ['a']);
  assert.deepEqual(planEviction(entries, 50, 100), ['a', 'b']);
  assert.deepEqual(planEviction(entries, 100, 100), ['a', 'b', 'c']);
  assert.equal(planEviction(entries, 101, 100), undefined);
  assert.deepEqual(planEviction([], 5, 5), []);
});

test('the cache key is the SHA-256 of the URI: no credential in a file name', () => {
  const key = cacheKey('https://user:secret@host/a.tgz');
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.notEqual(key, cacheKey('https://host/a.tgz'));
});

async function store(cache: FetchCache, uri: string, bytes: number, usedAt: number): Promise<boolean> {
  const created = await cache.create(cacheKey(uri));
  await created.handle.write(Buffer.alloc(bytes));
  const stored = await created.commit(bytes);
  if (stored) utimesSync(join(cache.directory, cacheKey(uri)), usedAt, usedAt);
  return stored;
}

test('a cache over its bound evicts the least recently used file; a hit counts as a use', async () => {
  const cache = new FetchCache(join(mkdtempSync(join(tmpdir(), 'cache-')), 'fetch'), 100);
  await cache.prepare();
  assert.equal(await store(cache, 'u1', 40, 1000), true);
  assert.equal(await store(cache, 'u2', 40, 2000), true);
  const hit = await cache.lookup(cacheKey('u1'));
  assert.equal(hit?.size, 40);
  await hit?.handle.close();
  assert.equal(await store(cache, 'u3', 40, 3000), true);
  const keys = (await cache.entries()).map((e) => e.key).sort();
  assert.deepEqual(keys, [cacheKey('u1'), cacheKey('u3')].sort());
  assert.equal(await cache.lookup(cacheKey('u2')), undefined);
  // Larger than the whole bound: not kept, nothing evicted, no temporary file left.
  assert.equal(await store(cache, 'huge', 101, 4000), false);
  assert.equal(readdirSync(cache.directory).length, 2);
});

test('the cache directory is refused when it is a link, or writable by others', async () => {
  const base = mkdtempSync(join(tmpdir(), 'cache-'));
  mkdirSync(join(base, 'real'), { mode: 0o700 });
  symlinkSync(join(base, 'real'), join(base, 'link'));
  const refused = (pattern: RegExp) => (error: unknown) => error instanceof FetchProblem && error.code === 'ERR_FETCH_CACHE' && pattern.test(error.message);
  await assert.rejects(new FetchCache(join(base, 'link'), 10).prepare(), refused(/is a symbolic link; refusing to use it/));
  mkdirSync(join(base, 'open'));
  chmodSync(join(base, 'open'), 0o777);
  await assert.rejects(new FetchCache(join(base, 'open'), 10).prepare(), refused(/writable by group or others \(mode 777\)/));
  await new FetchCache(join(base, 'new'), 10).prepare();
});
