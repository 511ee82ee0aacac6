// The two decisions of the rotating logger, as pure functions: where the bytes of a chunk go
// (which part fills the current file, which parts start a new one), and which renames and
// removals one rotation performs.
//
// The rule: a file is filled to exactly `maxBytes`, then rotated before the next byte is
// written. A chunk that does not fit is split at the size boundary, so every rotated file holds
// exactly `maxBytes` bytes and `stdout.N ... stdout.1 stdout` read in that order is the output,
// byte for byte, with nothing lost or repeated. Rotation is lazy: a full file stays as it is until
// a byte arrives that it cannot take, so no empty file is ever rotated.

export interface WriteSegment {
  // Rotate before writing this segment (the file is full).
  readonly rotateFirst: boolean;
  readonly start: number;
  readonly end: number;
}

// How a chunk of `length` bytes is written to a file that holds `size` bytes. A file that holds
// `maxBytes` or more (one left from before, say) counts as full.
export function planWrite(size: number, maxBytes: number, length: number): WriteSegment[] {
  if (!(maxBytes >= 1)) throw new RangeError(`maxBytes must be at least 1, got ${maxBytes}`);
  const segments: WriteSegment[] = [];
  let filled = size;
  let start = 0;
  while (start < length) {
    const rotateFirst = filled >= maxBytes;
    if (rotateFirst) filled = 0;
    const end = Math.min(length, start + (maxBytes - filled));
    segments.push({ rotateFirst, start, end });
    filled += end - start;
    start = end;
  }
  return segments;
}

export type RotationStep =
  | { readonly op: 'remove'; readonly name: string }
  | { readonly op: 'rename'; readonly from: string; readonly to: string };

// The steps of one rotation of `name` keeping `keep` old files (logrotate's "rotate N"): the
// oldest removed, each other moved one up, the current file becoming `name.1`. With `keep` 0 the
// current file is removed (logrotate: "old versions are removed rather than rotated").
export function planRotation(name: string, keep: number): RotationStep[] {
  if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`keep must be a whole number of files, got ${keep}`);
  if (keep === 0) return [{ op: 'remove', name }];
  const steps: RotationStep[] = [{ op: 'remove', name: `${name}.${keep}` }];
  for (let index = keep - 1; index >= 1; index--) steps.push({ op: 'rename', from: `${name}.${index}`, to: `${name}.${index + 1}` });
  steps.push({ op: 'rename', from: name, to: `${name}.1` });
  return steps;
}
