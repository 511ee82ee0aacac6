// The console's WebSocket messages, one JSON object per text frame.
//
// Server to page:
//   {type:"tasks", full:true|false, tasks:[TaskView...]}  the whole list (full) or changed tasks,
//                                                        batched; each task keeps its last updates
//   {type:"output", taskId, stream, file, offset, data}  bytes (base64) of the log at (file, offset)
//   {type:"skipped", taskId, stream, bytes|null, why}    bytes passed over (null: count unknown)
//   {type:"problem", taskId, stream, message}            e.g. a link refused in the sandbox
//   {type:"killed", taskId, ok}                          the answer to a kill
//   {type:"error", message}                              a message the server could not take
// Page to server:
//   {type:"follow", taskId, stream, from?:{file, offset}} start (or resume) a live tail
//   {type:"unfollow", taskId, stream}
//   {type:"kill", taskId, gracePeriodMs?}
import type { TaskView } from '../serve/console-source.js';
import type { LogPosition } from './log-follower.js';
import type { LogStream } from './rotated-logs.js';

export type ClientMessage =
  | { readonly type: 'follow'; readonly taskId: string; readonly stream: LogStream; readonly from?: LogPosition }
  | { readonly type: 'unfollow'; readonly taskId: string; readonly stream: LogStream }
  | { readonly type: 'kill'; readonly taskId: string; readonly gracePeriodMs?: number };

// The most updates of one task a list message carries (a flapping health check adds many).
export const UPDATES_SHOWN = 50;

// A task as the page gets it: its last updates only, and how many there were.
export function taskForPage(task: TaskView): TaskView & { updateCount: number } {
  return { ...task, updates: task.updates.slice(-UPDATES_SHOWN), updateCount: task.updates.length };
}

// The page's message, or a one-line reason why it is not one.
export function parseClientMessage(text: string): ClientMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'a message must be one JSON object';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a message must be one JSON object';
  const message = value as Record<string, unknown>;
  const taskId = message.taskId;
  if (typeof taskId !== 'string' || taskId === '' || taskId.length > 1024) return 'taskId must be a non-empty string';
  switch (message.type) {
    case 'follow':
    case 'unfollow': {
      const stream = message.stream;
      if (stream !== 'stdout' && stream !== 'stderr') return `stream must be "stdout" or "stderr", not ${JSON.stringify(stream)}`;
      if (message.type === 'unfollow') return { type: 'unfollow', taskId, stream };
      if (message.from === undefined || message.from === null) return { type: 'follow', taskId, stream };
      const from = message.from as Record<string, unknown>;
      if (typeof from !== 'object' || typeof from.file !== 'string' || !/^[0-9]+:[0-9]+:[0-9]+$/.test(from.file)) {
        return 'from.file must be a file id as the server sent it';
      }
      if (!Number.isSafeInteger(from.offset) || (from.offset as number) < 0) return 'from.offset must be a byte offset (an integer >= 0)';
      return { type: 'follow', taskId, stream, from: { file: from.file, offset: from.offset as number } };
    }
    case 'kill': {
      const grace = message.gracePeriodMs;
      if (grace === undefined || grace === null) return { type: 'kill', taskId };
      if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) return 'gracePeriodMs must be a number of milliseconds >= 0';
      return { type: 'kill', taskId, gracePeriodMs: grace };
    }
    default:
      return `type must be "follow", "unfollow" or "kill", not ${JSON.stringify(message.type)}`;
  }
}
