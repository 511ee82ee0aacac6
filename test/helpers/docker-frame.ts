// A frame of Docker's multiplexed output stream (attach, logs, exec): an 8-byte header naming the
// stream (1 stdout, 2 stderr) and the payload's size, then the payload.
export function dockerFrame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
