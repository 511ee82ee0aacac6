// One open console page: the logs it follows and what it asked for. Everything it is sent goes
// through one door that counts what is still unwritten, so a page that stops reading costs a
// bounded amount of memory: its log followers wait (and then skip ahead), and list changes are
// replaced by one full list once it reads again.
import type { WebSocket } from 'ws';
import type { ConsoleSource } from '../serve/console-source.js';
import { parseClientMessage, taskForPage, type ClientMessage } from './console-protocol.js';
import { LogFollower, type FollowerLimits } from './log-follower.js';
import type { LogStream } from './rotated-logs.js';

export interface ClientSettings {
  readonly limits?: Partial<FollowerLimits>;
  // List changes wait while this many bytes are unwritten to the page.
  readonly maxListBacklogBytes: number;
  readonly maxFollowed: number;
  readonly pollMs?: number;
}

export class ConsoleClient {
  private readonly socket: WebSocket;
  private readonly source: ConsoleSource;
  private readonly settings: ClientSettings;
  private readonly followers = new Map<string, LogFollower>();
  // Follows asked for before the task had a sandbox (its URIs being fetched), started with it.
  private readonly waiting = new Map<string, Extract<ClientMessage, { type: 'follow' }>>();
  private needsFullList = false;
  alive = true;

  constructor(socket: WebSocket, source: ConsoleSource, settings: ClientSettings) {
    this.socket = socket;
    this.source = source;
    this.settings = settings;
    socket.on('message', (data, isBinary) => {
      if (isBinary) return this.send({ type: 'error', message: 'messages must be text frames holding JSON' });
      try {
        this.receive(data.toString());
      } catch (error) {
        // One page's request must never take the agent down.
        this.send({ type: 'error', message: `the request failed: ${(error as Error).message.split('\n')[0]}` });
      }
    });
    socket.on('pong', () => {
      this.alive = true;
    });
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
    this.sendFullList();
  }

  close(): void {
    for (const follower of this.followers.values()) follower.close();
    this.followers.clear();
    this.waiting.clear();
  }

  private get congested(): boolean {
    return this.socket.bufferedAmount > this.settings.maxListBacklogBytes;
  }

  // Changed tasks, or (after the page fell behind) the whole list once it can take it.
  sendChanges(changed: ReturnType<typeof taskForPage>[]): void {
    for (const [key, follow] of this.waiting) {
      if (this.source.sandboxOf(follow.taskId) === undefined) continue;
      this.waiting.delete(key);
      this.receiveFollow(key, follow);
    }
    if (this.congested) {
      this.needsFullList = true;
      return;
    }
    if (this.needsFullList) return this.sendFullList();
    if (changed.length > 0) this.send({ type: 'tasks', full: false, tasks: changed });
  }

  // Called now and then: a page that fell behind gets the full list when it has caught up.
  tick(): void {
    if (this.needsFullList && !this.congested) this.sendFullList();
  }

  private sendFullList(): void {
    this.needsFullList = false;
    this.send({ type: 'tasks', full: true, tasks: this.source.tasks().map(taskForPage) });
  }

  private send(message: object, written?: () => void): void {
    if (this.socket.readyState !== this.socket.OPEN) {
      written?.();
      return;
    }
    this.socket.send(JSON.stringify(message), () => written?.());
  }

  private receive(text: string): void {
    const message = parseClientMessage(text);
    if (typeof message === 'string') return this.send({ type: 'error', message });
    const key = `${message.taskId}\u0000${message.type === 'kill' ? '' : message.stream}`;
    switch (message.type) {
      case 'kill': {
        const ok = this.known(message.taskId) && this.source.kill(message.taskId, message.gracePeriodMs);
        return this.send({ type: 'killed', taskId: message.taskId, ok });
      }
      case 'unfollow':
        this.followers.get(key)?.close();
        this.followers.delete(key);
        this.waiting.delete(key);
        return;
      case 'follow':
        return this.receiveFollow(key, message);
    }
  }

  private known(taskId: string): boolean {
    return this.source.tasks().some((task) => task.taskId === taskId);
  }

  private receiveFollow(key: string, message: Extract<ClientMessage, { type: 'follow' }>): void {
    this.followers.get(key)?.close();
    this.followers.delete(key);
    this.waiting.delete(key);
    const sandbox = this.source.sandboxOf(message.taskId);
    if (sandbox === undefined) {
      if (!this.known(message.taskId)) return this.send({ type: 'error', message: `no task ${message.taskId}` });
      this.waiting.set(key, message);
      return this.send({ type: 'problem', taskId: message.taskId, stream: message.stream, message: 'no sandbox yet; following once the task has one' });
    }
    if (this.followers.size >= this.settings.maxFollowed) {
      return this.send({ type: 'error', message: `at most ${this.settings.maxFollowed} logs can be followed at once` });
    }
    let follower: LogFollower;
    try {
      follower = this.follow(message.taskId, message.stream, sandbox, message.from);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      return this.send({ type: 'problem', taskId: message.taskId, stream: message.stream, message: `the sandbox of ${message.taskId} cannot be read (${code})` });
    }
    this.followers.set(key, follower);
  }

  private follow(taskId: string, stream: LogStream, sandbox: string, from: { file: string; offset: number } | undefined): LogFollower {
    return new LogFollower({
      sandbox,
      stream,
      from,
      limits: this.settings.limits,
      pollMs: this.settings.pollMs,
      sink: {
        data: (at, bytes, written) => this.send({ type: 'output', taskId, stream, file: at.file, offset: at.offset, data: bytes.toString('base64') }, written),
        skipped: (bytes, why) => this.send({ type: 'skipped', taskId, stream, bytes: bytes ?? null, why }),
        problem: (message) => this.send({ type: 'problem', taskId, stream, message }),
      },
    });
  }
}
