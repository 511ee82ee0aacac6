// Splits Docker's multiplexed output stream (8-byte frame header: stream id, 3 zero bytes, 32-bit
// big-endian payload length) into the container's stdout and stderr, byte for byte, waiting for
// each sink to drain so that a slow sink slows the container instead of growing memory.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ExecutorError } from '../errors.js';

const HEADER_BYTES = 8;

export interface OutputTotals {
  stdoutBytes: number;
  stderrBytes: number;
}

export class OutputDemuxError extends ExecutorError<'ERR_OUTPUT_STREAM'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'OutputDemuxError', code: 'ERR_OUTPUT_STREAM', cause: options.cause });
  }
}

// `totals` is kept up to date as bytes are written, so it is right even when the source breaks.
export async function demuxOutput(
  source: AsyncIterable<Buffer>,
  stdout: Writable,
  stderr: Writable,
  totals: OutputTotals = { stdoutBytes: 0, stderrBytes: 0 },
): Promise<OutputTotals> {
  let header: Buffer = Buffer.alloc(0);
  let remaining = 0;
  let sink: Writable = stdout;
  let toStdout = true;

  const write = async (bytes: Buffer): Promise<void> => {
    if (toStdout) totals.stdoutBytes += bytes.length;
    else totals.stderrBytes += bytes.length;
    if (!sink.write(bytes)) await once(sink, 'drain');
  };

  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      if (remaining === 0) {
        const need = HEADER_BYTES - header.length;
        const piece = chunk.subarray(offset, offset + need);
        header = header.length === 0 ? piece : Buffer.concat([header, piece]);
        offset += piece.length;
        if (header.length < HEADER_BYTES) break;
        const stream = header[0];
        if (stream === undefined || stream > 3 || header[1] !== 0 || header[2] !== 0 || header[3] !== 0) {
          throw new OutputDemuxError(`Unexpected frame header ${header.toString('hex')} in the container output stream`);
        }
        toStdout = stream === 0 || stream === 1;
        sink = toStdout ? stdout : stderr;
        remaining = header.readUInt32BE(4);
        header = Buffer.alloc(0);
        continue;
      }
      const piece = chunk.subarray(offset, offset + remaining);
      offset += piece.length;
      remaining -= piece.length;
      await write(piece);
    }
  }
  if (remaining > 0 || header.length > 0) {
    throw new OutputDemuxError(`Container output stream ended inside a frame (${remaining} bytes missing)`);
  }
  return totals;
}
