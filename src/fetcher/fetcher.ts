// The fetcher: puts what each CommandInfo.URI names into a sandbox with the Mesos fetcher's
// semantics (value, executable, extract, cache, output_file), each URI bounded in time and
// size. Used by the local agent before an executor starts, and by `agent.js fetch`.
import { realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { formatDuration } from '../config/duration.js';
import { archiveKind } from './archive-kind.js';
import { download } from './download.js';
import { extractArchive, type Extracted } from './extract.js';
import { FetchCache, cacheKey } from './fetch-cache.js';
import { FetchError, FetchProblem } from './fetch-error.js';
import { defaultFileName, outputFilePath, parseFetchUri, redactUri, scrub } from './fetch-uri.js';
import { SandboxWriter } from './sandbox-writer.js';

// CommandInfo.URI as the generated message or a plain object.
export interface FetchUri {
  readonly value?: string | null;
  readonly executable?: boolean | null;
  readonly extract?: boolean | null;
  readonly cache?: boolean | null;
  readonly output_file?: string | null;
}

export interface FetcherSettings {
  // Where cache=true URIs are kept; without one they are fetched as if cache were false.
  readonly cacheDir?: string | undefined;
  readonly cacheMaxBytes: number;
  // Per URI: the bytes downloaded, the bytes an archive expands to, the time it all takes, and
  // the longest wait for the next bytes of a download.
  readonly maxBytes: number;
  readonly maxExtractedBytes: number;
  readonly timeoutMs: number;
  readonly stallTimeoutMs: number;
}

export const DEFAULT_FETCHER_SETTINGS: FetcherSettings = {
  cacheMaxBytes: 2 * 1024 ** 3,
  maxBytes: 1024 ** 3,
  maxExtractedBytes: 4 * 1024 ** 3,
  timeoutMs: 10 * 60_000,
  stallTimeoutMs: 60_000,
};

const MAX_ENTRIES = 100_000;
const PROGRESS_EVERY_MS = 1000;

export type CacheUse = 'hit' | 'miss' | 'off';

export type FetchEvent =
  | { readonly type: 'fetching'; readonly uri: string }
  | { readonly type: 'progress'; readonly uri: string; readonly received: number; readonly total: number | undefined }
  | { readonly type: 'fetched'; readonly uri: string; readonly result: FetchedUri };

export interface FetchedUri {
  // The URI with its credentials redacted.
  readonly uri: string;
  // Where the fetched file is, relative to the sandbox.
  readonly path: string;
  readonly bytes: number;
  readonly cache: CacheUse;
  readonly executable: boolean;
  readonly extracted: Extracted | undefined;
}

export interface FetchOptions {
  readonly sandbox: string;
  readonly settings?: Partial<FetcherSettings>;
  readonly onEvent?: (event: FetchEvent) => void;
}

// Every URI in order; the first failure stops the rest and is thrown as a FetchError.
export async function fetchUris(uris: readonly FetchUri[], options: FetchOptions): Promise<FetchedUri[]> {
  const results: FetchedUri[] = [];
  for (const uri of uris) results.push(await fetchUri(uri, options));
  return results;
}

export async function fetchUri(uri: FetchUri, options: FetchOptions): Promise<FetchedUri> {
  const settings = { ...DEFAULT_FETCHER_SETTINGS, ...options.settings };
  const value = uri.value ?? '';
  const shown = redactUri(value);
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(new FetchProblem(`it took longer than ${formatDuration(settings.timeoutMs)} (--fetcher_timeout)`, 'ERR_FETCH_TIMEOUT'));
  }, settings.timeoutMs);
  try {
    if (value === '') throw new FetchProblem('the URI has no value', 'ERR_FETCH_URI');
    options.onEvent?.({ type: 'fetching', uri: shown });
    const result = await fetchInto(uri, value, shown, settings, options, deadline.signal);
    options.onEvent?.({ type: 'fetched', uri: shown, result });
    return result;
  } catch (caught) {
    const error = deadline.signal.aborted && !(caught instanceof FetchProblem && caught.code !== 'ERR_FETCH_TIMEOUT') ? deadline.signal.reason : caught;
    if (error instanceof FetchProblem) throw new FetchError(shown, scrub(error.message, value), error.code, { cause: error });
    const code = (error as NodeJS.ErrnoException).code;
    const why = `${(error as Error).message ?? String(error)}`;
    throw new FetchError(shown, scrub(code && !why.includes(code) ? `${code}: ${why}` : why, value), 'ERR_FETCH_SANDBOX');
  } finally {
    clearTimeout(timer);
  }
}

async function fetchInto(uri: FetchUri, value: string, shown: string, settings: FetcherSettings, options: FetchOptions, signal: AbortSignal): Promise<FetchedUri> {
  const source = parseFetchUri(value);
  const path = uri.output_file ? outputFilePath(uri.output_file) : defaultFileName(source);
  const writer = new SandboxWriter(await realpath(options.sandbox));
  let lastProgress = Date.now();
  const onProgress = (received: number, total: number | undefined): void => {
    const now = Date.now();
    if (now - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = now;
    options.onEvent?.({ type: 'progress', uri: shown, received, total });
  };
  const downloadOptions = { maxBytes: settings.maxBytes, stallTimeoutMs: settings.stallTimeoutMs, signal, onProgress };
  const file = await writer.file(path);
  try {
    let bytes: number;
    let cache: CacheUse = 'off';
    if (uri.cache && settings.cacheDir) {
      const store = new FetchCache(settings.cacheDir, settings.cacheMaxBytes);
      await store.prepare();
      const key = cacheKey(value);
      const hit = await store.lookup(key);
      if (hit) {
        cache = 'hit';
        try {
          bytes = await copyHandle(hit.handle, file.handle);
        } finally {
          await hit.handle.close();
        }
      } else {
        cache = 'miss';
        const entry = await store.create(key);
        try {
          bytes = await download(source, entry.handle, downloadOptions);
          await copyHandle(entry.handle, file.handle);
          await entry.commit(bytes);
        } catch (error) {
          await entry.abort();
          throw error;
        }
      }
    } else {
      bytes = await download(source, file.handle, downloadOptions);
    }
    const executable = uri.executable === true;
    await file.commit(executable ? 0o755 : 0o644);
    // Executables are never extracted; extract defaults to true (proto2 default).
    const kind = executable || uri.extract === false ? undefined : archiveKind(posix.basename(path));
    const extracted = kind === undefined
      ? undefined
      : await extractArchive(kind, file.handle, bytes, path, writer, { maxBytes: settings.maxExtractedBytes, maxEntries: MAX_ENTRIES, signal });
    return { uri: shown, path, bytes, cache, executable, extracted };
  } finally {
    await file.close();
  }
}

async function copyHandle(from: FileHandle, to: FileHandle): Promise<number> {
  let copied = 0;
  for await (const chunk of from.createReadStream({ start: 0, autoClose: false })) {
    await to.write(chunk as Buffer);
    copied += (chunk as Buffer).length;
  }
  return copied;
}
