// A request body read whole up to a bound: a client cannot make the agent buffer more.
import type http from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`Request body larger than ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export async function readBody(request: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > maxBytes) throw new BodyTooLargeError(maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
