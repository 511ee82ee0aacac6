// Secret masking in log lines and status messages: every registered value, whatever its length,
// with the longest secret masked whole when a shorter one is a part of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redact, registerSecret } from '../../src/log.js';

test('a shorter secret registered first does not leave the rest of a longer one visible', () => {
  registerSecret('tok');
  registerSecret('tok-9f8e7d6c5b4a');
  assert.equal(redact('header tok-9f8e7d6c5b4a end'), 'header *** end');
  assert.equal(redact('just tok here'), 'just *** here');
});

test('secrets shorter than 4 characters are masked too; the empty one is ignored', () => {
  registerSecret('q7');
  registerSecret('');
  registerSecret(undefined);
  assert.equal(redact('pin=q7;'), 'pin=***;');
  assert.equal(redact('nothing secret'), 'nothing secret');
});

test('secrets holding regular expression characters are matched literally', () => {
  registerSecret('a.b*(c)[d]$^|\\e+?{2}/-');
  assert.equal(redact('x a.b*(c)[d]$^|\\e+?{2}/- y'), 'x *** y');
  assert.equal(redact('x aXb y'), 'x aXb y');
});

test('a secret containing $& or $1 is replaced by the mask, never expanded', () => {
  registerSecret('p$&w$1');
  assert.equal(redact('=p$&w$1='), '=***=');
});
