// Why one URI could not be fetched. The message names the URI with its credentials redacted and
// never carries them; callers may show it to anyone (statuses, logs).
import { ExecutorError } from '../errors.js';

export type FetchErrorCode =
  | 'ERR_FETCH_URI' // the URI (or its output_file) is not one this fetcher accepts
  | 'ERR_FETCH_SOURCE' // the source could not be read: not found, refused, HTTP error
  | 'ERR_FETCH_TOO_BIG' // over --fetcher_max_size (downloaded) or --fetcher_max_extracted_size
  | 'ERR_FETCH_TIMEOUT' // over --fetcher_timeout, or stalled past --fetcher_stall_timeout
  | 'ERR_FETCH_ARCHIVE' // an archive that is malformed, or has an entry that is refused
  | 'ERR_FETCH_SANDBOX' // the result cannot be written where it belongs
  | 'ERR_FETCH_CACHE'; // the cache directory is unusable

export class FetchError extends ExecutorError<FetchErrorCode> {
  // The URI as it may be shown: credentials replaced by ***.
  readonly uri: string;

  constructor(uri: string, why: string, code: FetchErrorCode, options: { cause?: unknown } = {}) {
    super(`Failed to fetch '${uri}': ${why}`, { name: 'FetchError', code, cause: options.cause });
    this.uri = uri;
  }
}

// A problem found below the URI level (an archive entry, a download), turned into a FetchError
// by the one place that knows the URI.
export class FetchProblem extends ExecutorError<FetchErrorCode> {
  constructor(why: string, code: FetchErrorCode, options: { cause?: unknown } = {}) {
    super(why, { name: 'FetchProblem', code, cause: options.cause });
  }
}
