// Reads a stream of JSON lines (pull progress, events) record by record, with a bound on a
// line's length so that a stream without newlines cannot grow memory.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import split2 from 'split2';
import { DockerError } from './docker-error.js';

export type JsonRecord = Readonly<Record<string, unknown>>;

// Settles when the stream ends; a line that is not a JSON object is skipped; `onRecord` may throw
// to stop reading (the stream is then destroyed).
export async function readJsonLines(
  source: Readable,
  options: { maxLength: number; tooLong: string },
  onRecord: (record: JsonRecord) => void,
): Promise<void> {
  try {
    await pipeline(source, split2(parseRecord, { maxLength: options.maxLength }), async (records: AsyncIterable<JsonRecord>) => {
      for await (const record of records) onRecord(record);
    });
  } catch (error) {
    // split2's words for a line past maxLength.
    if (error instanceof Error && error.message === 'maximum buffer reached') throw new DockerError(options.tooLong, { cause: error });
    throw error;
  }
}

// One line as a record; undefined (skipped by split2) for anything else.
export function parseRecord(line: string): JsonRecord | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as JsonRecord : undefined;
  } catch {
    return undefined;
  }
}
