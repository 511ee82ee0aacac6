// An assert.throws validator: an InvalidTaskError whose message matches.
import assert from 'node:assert/strict';
import { InvalidTaskError } from '../../src/docker/invalid-task-error.js';

export function invalidTask(pattern: RegExp): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof InvalidTaskError, `expected an InvalidTaskError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_INVALID_TASK');
    assert.match(err.message, pattern);
    return true;
  };
}
