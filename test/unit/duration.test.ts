import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationFromNanos, formatDuration, parseDuration } from '../../src/config/duration.js';

test('parseDuration reads <number><unit> as milliseconds', () => {
  const cases: Array<[string, number]> = [
    ['5secs', 5_000],
    ['500ms', 500],
    ['1.5mins', 90_000],
    ['15mins', 900_000],
    ['2hrs', 7_200_000],
    ['1days', 86_400_000],
    ['1weeks', 604_800_000],
    ['100ns', 0.0001],
    ['3us', 0.003],
    ['0ns', 0],
    ['0secs', 0],
    ['2100ms', 2_100],
    ['.5secs', 500],
  ];
  for (const [text, ms] of cases) {
    const result = parseDuration(text);
    assert.ok(result.ok, `${text}: ${result.ok ? '' : result.error}`);
    assert.ok(Math.abs(result.ms - ms) < 1e-9, `${text} gave ${result.ms}, expected ${ms}`);
  }
});

test('parseDuration refuses what is not <number><unit>, naming the text', () => {
  const cases: Array<[string, RegExp]> = [
    ['5', /expected a duration like '5secs', '500ms' or '15mins', got '5'/],
    ['5 seconds', /got '5 seconds'/],
    ['5 secs', /got '5 secs'/],
    ['-1secs', /got '-1secs'/],
    ['abc', /got 'abc'/],
    ['5xs', /unknown unit 'xs' in '5xs' \(expected one of ns, us, ms, secs, mins, hrs, days, weeks\)/],
    ['', /got ''/],
    ['5SECS', /got '5SECS'/],
    ['5s', /unknown unit 's'/],
    ['secs', /got 'secs'/],
    ['1e3secs', /'1e3secs'/],
  ];
  for (const [text, pattern] of cases) {
    const result = parseDuration(text);
    assert.equal(result.ok, false, `'${text}' was accepted`);
    if (!result.ok) assert.match(result.error, pattern, `'${text}'`);
  }
});

// Flag values reach the parser trimmed (spec 3.2), so surrounding blanks are tolerated.
test('parseDuration tolerates blanks around the value', () => {
  for (const text of [' 5secs', '5secs ', '\t5secs\n']) {
    const result = parseDuration(text);
    assert.ok(result.ok && result.ms === 5_000, JSON.stringify(text));
  }
});

test('formatDuration prints the largest unit in which the value is whole, as Mesos does', () => {
  const cases: Array<[number, string]> = [
    [5_000, '5secs'],
    [2_000, '2secs'],
    [7_000, '7secs'],
    [2_100, '2100ms'],
    [90_000, '90secs'],
    [900_000, '15mins'],
    [0, '0ns'],
    [7_200_000, '2hrs'],
    [86_400_000, '1days'],
    [604_800_000, '1weeks'],
    [129_600_000, '36hrs'],
    [500, '500ms'],
    [0.003, '3us'],
    [0.0001, '100ns'],
    [0.0015, '1500ns'],
  ];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text, `${ms} ms`);
  }
});

test('formatDuration output parses back to the same duration', () => {
  for (const ms of [1, 999, 1_001, 61_000, 3_601_000, 90_061_001, 0.25]) {
    const parsed = parseDuration(formatDuration(ms));
    assert.ok(parsed.ok);
    assert.ok(Math.abs(parsed.ms - ms) < 1e-9, `${ms} -> ${formatDuration(ms)} -> ${parsed.ms}`);
  }
});

test('durationFromNanos converts DurationInfo.nanoseconds to milliseconds', () => {
  const cases: Array<[number | bigint | { toString(): string }, number]> = [
    [0, 0],
    [5_000_000_000, 5_000],
    [100, 0.0001],
    [1_500_000, 1.5],
    [10_000_000_000n, 10_000],
    [{ toString: () => '2000000000' }, 2_000],
  ];
  for (const [nanos, ms] of cases) {
    assert.equal(durationFromNanos(nanos), ms, String(nanos));
  }
});
