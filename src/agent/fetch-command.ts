// `agent.js fetch`: the fetcher as an operator-side tool, without an agent or an executor.
//   node dist/agent.js fetch <uri>... --sandbox=<dir> [--output_file=name] [--executable] ...
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';
import { formatHelp, parseBool, parseFlags, type FlagSpec } from '../config/flags.js';
import { fetchUris, type FetchUri } from '../fetcher/fetcher.js';
import { FetchError } from '../fetcher/fetch-error.js';
import { describeFetchEvent, fetcherFlags, fetcherSettings } from './fetcher-flags.js';

export const FETCH_USAGE = 'Usage: node dist/agent.js fetch <uri>... --sandbox=<dir> [--name=value ...]\n\n'
  + 'Fetches each URI into the sandbox directory as the Mesos fetcher does (CommandInfo.URI\n'
  + 'semantics): an absolute path, file://, http:// or https:// (credentials in the URI are sent\n'
  + 'as Basic authentication and never shown); .tar, .tar.gz/.tgz, .tar.bz2/.tbz2, .tar.xz/.txz\n'
  + 'and .zip are extracted into the sandbox, .gz beside itself. The flags below apply to every\n'
  + 'URI given. One line per fetched URI on stdout; progress and errors on stderr. Exits 0 when\n'
  + 'every URI was fetched, 1 at the first failure. See docs/fetcher.md.';

const FLAGS: readonly FlagSpec[] = [
  { name: 'sandbox', kind: 'string', help: 'The directory to fetch into (must exist)' },
  { name: 'output_file', kind: 'string', help: 'Name of the fetched file, relative to the sandbox (one URI only)' },
  { name: 'executable', kind: 'bool', help: 'Make the fetched file executable (0755) and never extract it', default: 'false' },
  { name: 'extract', kind: 'bool', help: 'Extract archives', default: 'true' },
  { name: 'cache', kind: 'bool', help: 'Use the cache (needs --fetcher_cache_dir)', default: 'false' },
  ...fetcherFlags('none: no caching'),
  { name: 'help', kind: 'bool', help: 'Print this help', default: 'false' },
];

export function fetchHelp(): string {
  return formatHelp(FETCH_USAGE, FLAGS);
}

export async function fetchCommand(argv: readonly string[]): Promise<number> {
  const uris = argv.filter((arg) => !arg.startsWith('--'));
  const flags = parseFlags(argv.filter((arg) => arg.startsWith('--')), FLAGS);
  if (parseBool('--help', flags.get('help') ?? 'false')) {
    process.stdout.write(`${fetchHelp()}\n`);
    return 0;
  }
  const sandboxFlag = flags.get('sandbox');
  if (!sandboxFlag) throw new ConfigError('Missing --sandbox=<dir>: the directory to fetch into');
  const sandbox = resolve(sandboxFlag);
  let isDirectory = false;
  try {
    isDirectory = statSync(sandbox).isDirectory();
  } catch {
    // Reported below.
  }
  if (!isDirectory) throw new ConfigError(`--sandbox=${sandboxFlag} is not an existing directory`);
  if (uris.length === 0) throw new ConfigError('No URI given: expected at least one <uri> before or after the flags');
  const outputFile = flags.get('output_file');
  if (outputFile !== undefined && uris.length > 1) throw new ConfigError('--output_file names one file: give exactly one URI with it');
  const settings = fetcherSettings(flags, undefined);
  const cache = parseBool('--cache', flags.get('cache') ?? 'false');
  if (cache && settings.cacheDir === undefined) throw new ConfigError('--cache needs --fetcher_cache_dir=<dir>');

  const list: FetchUri[] = uris.map((value) => ({
    value,
    executable: parseBool('--executable', flags.get('executable') ?? 'false'),
    extract: parseBool('--extract', flags.get('extract') ?? 'true'),
    cache,
    ...(outputFile !== undefined ? { output_file: outputFile } : {}),
  }));
  try {
    await fetchUris(list, {
      sandbox,
      settings,
      onEvent: (event) => {
        const line = describeFetchEvent(event);
        if (event.type === 'fetched') process.stdout.write(`${line}\n`);
        else process.stderr.write(`fetch: ${line}\n`);
      },
    });
    return 0;
  } catch (error) {
    if (!(error instanceof FetchError)) throw error;
    process.stderr.write(`fetch: ${error.message}\n`);
    return 1;
  }
}
