// Where the container's output goes: this process's stdout or stderr. A regular file (the sandbox
// file the agent opened for us) is written synchronously, which is cheaper than a round trip
// through libuv's thread pool per chunk; anything else (a pipe to a container logger) gets an
// asynchronous stream, so a slow reader slows the container instead of blocking the executor.
import { createWriteStream, fstatSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

export function outputSink(fd: number): Writable {
  let regularFile = false;
  try {
    regularFile = fstatSync(fd).isFile();
  } catch {
    // Not inspectable: treat it as a stream.
  }
  return regularFile ? new FileSink(fd) : createWriteStream('', { fd, autoClose: false });
}

class FileSink extends Writable {
  private readonly fd: number;

  constructor(fd: number) {
    super({ highWaterMark: 1024 * 1024 });
    this.fd = fd;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      writeAll(this.fd, chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}
