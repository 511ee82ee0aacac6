import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoBool, parseGoDuration, parseGoInt, parseSize } from '../../src/docker/docker-units.js';

test('sizes read as go-units RAMInBytes: binary multipliers, optional b/ib, case-insensitive', () => {
  const cases: Array<[string, number | undefined]> = [
    ['0', 0],
    ['512', 512],
    ['100b', 100],
    ['1k', 1024],
    ['64m', 64 * 1024 ** 2],
    ['64M', 64 * 1024 ** 2],
    ['64mb', 64 * 1024 ** 2],
    ['64MiB', 64 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1.5g', 1.5 * 1024 ** 3],
    ['2 GB', 2 * 1024 ** 3],
    ['1t', 1024 ** 4],
    ['1p', 1024 ** 5],
    ['', undefined],
    ['-1', undefined],
    ['m', undefined],
    ['1x', undefined],
    ['1.2.3m', undefined],
    ['64m ', undefined],
    ['1e3', undefined],
    ['99999999p', undefined],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, JSON.stringify(text));
});

test('durations read as Go time.ParseDuration, in nanoseconds', () => {
  const cases: Array<[string, number | undefined]> = [
    ['0', 0],
    ['30s', 30e9],
    ['1m30s', 90e9],
    ['1h', 3600e9],
    ['500ms', 500e6],
    ['1.5s', 1.5e9],
    ['.5s', 0.5e9],
    ['10us', 10e3],
    ['10µs', 10e3],
    ['7ns', 7],
    ['-1s', -1e9],
    ['', undefined],
    ['30', undefined],
    ['1d', undefined],
    ['s', undefined],
    ['1 s', undefined],
    ['1s1', undefined],
  ];
  for (const [text, nanoseconds] of cases) assert.equal(parseGoDuration(text), nanoseconds, JSON.stringify(text));
});

test('booleans read as Go strconv.ParseBool', () => {
  for (const text of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(parseGoBool(text), true, text);
  for (const text of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(parseGoBool(text), false, text);
  for (const text of ['', 'yes', 'no', 'on', 'tRuE', ' true']) assert.equal(parseGoBool(text), undefined, JSON.stringify(text));
});

test('integers read as Go strconv.ParseInt base 10, within the safe range', () => {
  const cases: Array<[string, number | undefined]> = [
    ['0', 0],
    ['42', 42],
    ['-1', -1],
    ['+7', 7],
    ['', undefined],
    ['1.0', undefined],
    ['0x10', undefined],
    ['1e3', undefined],
    [' 1', undefined],
    ['99999999999999999999', undefined],
  ];
  for (const [text, value] of cases) assert.equal(parseGoInt(text), value, JSON.stringify(text));
});
