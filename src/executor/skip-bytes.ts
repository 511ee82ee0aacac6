// A sink that drops the first `skip` bytes written to it: replayed container output that the
// sandbox file already holds, so that a resumed stream neither loses nor repeats a byte.
import { Writable } from 'node:stream';

export function skipFirstBytes(target: Writable, skip: number): Writable {
  if (skip <= 0) return target;
  let remaining = skip;
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      let bytes = chunk;
      if (remaining > 0) {
        const dropped = Math.min(remaining, bytes.length);
        remaining -= dropped;
        bytes = bytes.subarray(dropped);
      }
      if (bytes.length === 0 || target.write(bytes)) callback();
      else target.once('drain', () => callback());
    },
  });
}
