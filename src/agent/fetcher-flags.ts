// The fetcher's flags, shared by `agent.js run` and `agent.js fetch`, named after the Mesos
// agent's (--fetcher_cache_dir, --fetcher_cache_size, --fetcher_stall_timeout) plus this
// fetcher's own bounds; and how its progress is shown.
import { ConfigError } from '../config/config-error.js';
import { parseDuration } from '../config/duration.js';
import type { FlagSpec, RawFlags } from '../config/flags.js';
import { formatByteSize, parseByteSize } from '../fetcher/byte-size.js';
import { DEFAULT_FETCHER_SETTINGS, type FetcherSettings, type FetchEvent } from '../fetcher/fetcher.js';
import { formatDuration } from '../config/duration.js';

export function fetcherFlags(cacheDirDefault: string): FlagSpec[] {
  const d = DEFAULT_FETCHER_SETTINGS;
  return [
    { name: 'fetcher_cache_dir', kind: 'string', help: 'Where URIs with cache=true are kept (a directory of this user, mode 0700, outside every sandbox)', default: cacheDirDefault },
    { name: 'fetcher_cache_size', kind: 'string', help: 'Size bound of the cache (B, KB, MB, GB, TB); least recently used files go first', default: formatByteSize(d.cacheMaxBytes) },
    { name: 'fetcher_max_size', kind: 'string', help: 'Largest download (or local file) per URI', default: formatByteSize(d.maxBytes) },
    { name: 'fetcher_max_extracted_size', kind: 'string', help: 'Most bytes an archive may expand to, per URI', default: formatByteSize(d.maxExtractedBytes) },
    { name: 'fetcher_timeout', kind: 'duration', help: 'Longest time to fetch (and extract) one URI', default: formatDuration(d.timeoutMs) },
    { name: 'fetcher_stall_timeout', kind: 'duration', help: 'Longest wait for the next bytes of a download', default: formatDuration(d.stallTimeoutMs) },
  ];
}

// Settings from the flags given; the cache directory only when one is given (or defaulted by the caller).
export function fetcherSettings(flags: RawFlags, cacheDir: string | undefined): Partial<FetcherSettings> {
  const size = (name: string): number | undefined => {
    const text = flags.get(name);
    if (text === undefined) return undefined;
    const parsed = parseByteSize(text);
    if (!parsed.ok) throw new ConfigError(`Invalid --${name}: ${parsed.error}`);
    if (parsed.bytes === 0) throw new ConfigError(`Invalid --${name}: must be more than 0B`);
    return parsed.bytes;
  };
  const duration = (name: string): number | undefined => {
    const text = flags.get(name);
    if (text === undefined) return undefined;
    const parsed = parseDuration(text);
    if (!parsed.ok) throw new ConfigError(`Invalid --${name}: ${parsed.error}`);
    if (parsed.ms <= 0) throw new ConfigError(`Invalid --${name}: must be longer than 0ns`);
    return parsed.ms;
  };
  const settings: Record<string, number | string | undefined> = {
    cacheDir: flags.get('fetcher_cache_dir') ?? cacheDir,
    cacheMaxBytes: size('fetcher_cache_size'),
    maxBytes: size('fetcher_max_size'),
    maxExtractedBytes: size('fetcher_max_extracted_size'),
    timeoutMs: duration('fetcher_timeout'),
    stallTimeoutMs: duration('fetcher_stall_timeout'),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<FetcherSettings>;
}

// One line for an event of the fetcher, for an operator's terminal (the URI already redacted).
export function describeFetchEvent(event: FetchEvent): string {
  switch (event.type) {
    case 'fetching':
      return `fetching ${event.uri}`;
    case 'progress': {
      const part = event.total ? ` of ${mebibytes(event.total)} (${Math.floor((event.received / event.total) * 100)}%)` : '';
      return `fetching ${event.uri}: ${mebibytes(event.received)}${part}`;
    }
    case 'fetched': {
      const { result } = event;
      const notes = [
        `${result.bytes} bytes`,
        ...(result.cache === 'hit' ? ['from the cache'] : result.cache === 'miss' ? ['cached'] : []),
        ...(result.executable ? ['executable'] : []),
        ...(result.extracted ? [`extracted ${result.extracted.entries} entries, ${result.extracted.bytes} bytes`] : []),
      ];
      return `fetched ${event.uri} to ${result.path} (${notes.join(', ')})`;
    }
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
