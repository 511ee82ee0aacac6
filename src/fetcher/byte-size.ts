// Mesos byte sizes (stout/bytes.hpp): "<number><unit>" with B, KB, MB, GB or TB in powers of 1024,
// as the agent's --fetcher_cache_size takes them ("2GB").

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

export type ByteSizeResult = { ok: true; bytes: number } | { ok: false; error: string };

export function parseByteSize(text: string): ByteSizeResult {
  const match = /^([0-9]+(?:\.[0-9]+)?)(B|KB|MB|GB|TB)$/.exec(text.trim());
  if (!match) return { ok: false, error: `expected a size like '512MB' or '2GB' (units B, KB, MB, GB, TB), got '${text}'` };
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!]!);
  if (!Number.isSafeInteger(bytes)) return { ok: false, error: `size '${text}' is too large` };
  return { ok: true, bytes };
}

// The inverse, for messages: the largest unit in which the value is whole.
export function formatByteSize(bytes: number): string {
  for (const unit of ['TB', 'GB', 'MB', 'KB'] as const) {
    const scale = UNITS[unit]!;
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return `${bytes}B`;
}
