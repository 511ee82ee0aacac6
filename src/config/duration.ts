// Mesos duration strings (stout/duration.hpp): "<decimal number><unit>", e.g. "5secs", "500ms",
// "1.5mins". Durations are carried as milliseconds (fractions allowed for ns/us).

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  secs: 1000,
  mins: 60_000,
  hrs: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

const UNITS_DESCENDING = ['weeks', 'days', 'hrs', 'mins', 'secs', 'ms', 'us', 'ns'] as const;

export type DurationResult = { ok: true; ms: number } | { ok: false; error: string };

export function parseDuration(text: string): DurationResult {
  const match = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)([a-z]+)$/.exec(text.trim());
  if (!match) {
    return { ok: false, error: `expected a duration like '5secs', '500ms' or '15mins', got '${text}'` };
  }
  const unit = match[2]!;
  const scale = UNIT_MS[unit];
  if (scale === undefined) {
    return {
      ok: false,
      error: `unknown unit '${unit}' in '${text}' (expected one of ${Object.keys(UNIT_MS).join(', ')})`,
    };
  }
  const ms = Number(match[1]) * scale;
  if (!Number.isFinite(ms)) return { ok: false, error: `duration '${text}' is too large` };
  return { ok: true, ms };
}

// The inverse, as Mesos prints durations: the largest unit in which the value is whole.
export function formatDuration(ms: number): string {
  if (ms === 0) return '0ns';
  const ns = Math.round(ms * 1e6);
  for (const unit of UNITS_DESCENDING) {
    const unitNs = Math.round(UNIT_MS[unit]! * 1e6);
    if (ns >= unitNs && ns % unitNs === 0) return `${ns / unitNs}${unit}`;
  }
  return `${ns}ns`;
}

export function durationFromNanos(nanoseconds: number | bigint | { toString(): string }): number {
  return Number(nanoseconds) / 1e6;
}
