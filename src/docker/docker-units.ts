// The value syntaxes `docker run` accepts (go-units sizes, Go durations, Go booleans and
// integers), so that a DockerInfo parameter means here what it means to the docker CLI. Each
// parser returns undefined for text it does not accept; the caller names the parameter.

const SIZE = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i;
const SIZE_MULTIPLIERS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

// go-units RAMInBytes: "64m", "1g", "1.5GiB", "512" (bytes); binary multipliers.
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (!match) return undefined;
  const multiplier = match[2] ? SIZE_MULTIPLIERS[match[2].toLowerCase()]! : 1;
  const bytes = Math.floor(Number(match[1]) * multiplier);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
// Micro signs as escapes: one non-ASCII character in the bundle makes V8 hold its whole source as
// UTF-16, twice the memory (esbuild escapes those in strings, not in regular expressions).
const DURATION = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;

// Go's time.ParseDuration ("1m30s", "500ms", "0"), in nanoseconds.
export function parseGoDuration(text: string): number | undefined {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) total += Number(amount) * DURATION_UNITS[unit!]!;
  const nanoseconds = Math.round(text.startsWith('-') ? -total : total);
  return Number.isSafeInteger(nanoseconds) ? nanoseconds : undefined;
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

// Go's strconv.ParseBool, which is what `--flag=value` goes through.
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}

// Go's strconv.ParseInt in base 10, bounded to integers JavaScript holds exactly.
export function parseGoInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
