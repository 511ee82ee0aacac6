// What a CommandInfo.URI value names, and how it may be shown. Credentials in a URI
// (https://user:pass@host/...) are replaced by *** in everything this module returns for display.
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FetchProblem } from './fetch-error.js';

export type FetchSource =
  | { readonly kind: 'local'; readonly path: string }
  | { readonly kind: 'http'; readonly url: URL };

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;

// The URI for messages: its userinfo, when it has one, replaced by ***.
export function redactUri(value: string): string {
  return value.replace(USERINFO, '$1***@');
}

// Every form in which the URI's credentials could appear in some text (raw and percent-decoded),
// longest first, so that scrubbing a longer one never leaves part of it behind.
export function uriSecrets(value: string): string[] {
  const match = USERINFO.exec(value);
  if (!match) return [];
  const userinfo = match[2]!;
  const colon = userinfo.indexOf(':');
  const password = colon === -1 ? '' : userinfo.slice(colon + 1);
  const forms = [userinfo, password].flatMap((form) => [form, safeDecode(form)]);
  return [...new Set(forms.filter((form) => form.length > 0))].sort((a, b) => b.length - a.length);
}

// Text (an error message from a library, say) with the URI's credentials replaced by ***.
export function scrub(text: string, value: string): string {
  let result = text.split(value).join(redactUri(value));
  for (const secret of uriSecrets(value)) result = result.split(secret).join('***');
  return result;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// Parses a URI value as the Mesos fetcher accepts it here: an absolute local path, file://,
// http:// or https://. Anything else is refused with what was expected.
export function parseFetchUri(value: string): FetchSource {
  if (value.includes('\0')) throw new FetchProblem('the URI contains a NUL byte', 'ERR_FETCH_URI');
  if (value.startsWith('/')) return { kind: 'local', path: value };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new FetchProblem('expected an absolute path, or a file://, http:// or https:// URI', 'ERR_FETCH_URI');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new FetchProblem('not a valid URI', 'ERR_FETCH_URI');
  }
  if (scheme === 'file') {
    if (url.hostname !== '' && url.hostname !== 'localhost') {
      throw new FetchProblem(`a file:// URI must name a local file (host '${url.hostname}' given)`, 'ERR_FETCH_URI');
    }
    return { kind: 'local', path: fileURLToPath(url) };
  }
  if (scheme === 'http' || scheme === 'https') return { kind: 'http', url };
  throw new FetchProblem(`unsupported scheme '${scheme}': expected an absolute path, file://, http:// or https://`, 'ERR_FETCH_URI');
}

// The name the fetched file gets in the sandbox without an output_file: the last component of the
// URI's path (query and fragment dropped), as the Mesos fetcher names it.
export function defaultFileName(source: FetchSource): string {
  const path = source.kind === 'local' ? source.path : safeDecode(source.url.pathname);
  const name = posix.basename(path);
  if (name === '' || name === '.' || name === '..' || path.endsWith('/')) {
    throw new FetchProblem('cannot tell a file name from the URI (its path ends in a directory): set output_file', 'ERR_FETCH_URI');
  }
  return name;
}

// output_file as a path relative to the sandbox, refused when it is absolute, empty, or climbs
// out (any '..' component): the result must land inside the sandbox.
export function outputFilePath(outputFile: string): string {
  if (outputFile.includes('\0')) throw new FetchProblem('output_file contains a NUL byte', 'ERR_FETCH_URI');
  if (outputFile.startsWith('/')) {
    throw new FetchProblem(`output_file '${outputFile}' is absolute: expected a path relative to the sandbox`, 'ERR_FETCH_URI');
  }
  const parts = outputFile.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new FetchProblem(`output_file '${outputFile}' has a '..' component: expected a path inside the sandbox`, 'ERR_FETCH_URI');
  }
  if (parts.length === 0) throw new FetchProblem(`output_file '${outputFile}' names no file: expected a path inside the sandbox`, 'ERR_FETCH_URI');
  return parts.join('/');
}
