// The executor's one channel to the agent: it subscribes (and resubscribes after a disconnection,
// carrying every unacknowledged update and task), delivers events, sends each status update
// reliably and in order, takes acknowledgements, and keeps the fail-safes: the registration
// timeout, the recovery timeout and the bound on an unacknowledged terminal update.
// readyState gates every operation, as in ws: registering -> subscribed <-> disconnected -> closed.
import { formatDuration } from '../config/duration.js';
import { mesos } from '../proto/generated/mesos.js';
import { errorMessage, log } from '../log.js';
import { AgentCallError, type AgentConnection, type Call, type Event, type Subscription } from './agent-connection.js';
import { stateName } from './task-states.js';
import { LongTimeout, sleep } from '../timers.js';
import { retry } from '../retry.js';
import { UpdateLedger, type Update } from './update-ledger.js';

const CallType = mesos.v1.executor.Call.Type;
const EventType = mesos.v1.executor.Event.Type;

const HEARTBEAT_INTERVAL_MS = 30 * 60_000;
const RESUBSCRIBE_AFTER_REFUSAL_MS = 1000;
const UPDATE_RETRY_MS = 1000;

export type ReadyState = 'registering' | 'subscribed' | 'disconnected' | 'closed';

// The calls the channel makes on its connection to the agent (a fake one in tests).
export type AgentLink = Pick<AgentConnection, 'subscribe' | 'send' | 'close'>;

export interface UpdateChannelOptions {
  readonly connection: AgentLink;
  readonly executorId: string;
  readonly frameworkId: string;
  // MESOS_CHECKPOINT: whether a disconnection is survived.
  readonly checkpoint: boolean;
  readonly registrationTimeoutMs: number;
  readonly recoveryTimeoutMs: number;
  readonly subscriptionBackoffMaxMs: number;
  readonly terminalAckTimeoutMs: number;
  // Settles once every update recorded so far is on disk: nothing is sent before (none: at once).
  durable?(): Promise<void>;
  // Tasks to carry in a SUBSCRIBE: those of which no update was acknowledged yet.
  unacknowledgedTasks(acknowledged: (taskId: string) => boolean): mesos.v1.ITaskInfo[];
  // Every task is terminal: an unacknowledged terminal update is then what the executor waits on.
  allTasksTerminal(): boolean;
  // Every event but ACKNOWLEDGED, which the channel takes itself.
  onEvent(event: Event): void;
  onAcknowledged(update: Update): void;
  // The agent is gone for good, or refuses this executor: the executor gives up.
  onLost(reason: string): void;
  // The terminal update stayed unacknowledged past its bound while connected.
  onTerminalUnacknowledged(): void;
}

export class UpdateChannel {
  readonly ledger = new UpdateLedger();
  private readonly options: UpdateChannelOptions;
  private state: ReadyState = 'registering';
  private subscription: Subscription | undefined;
  private generation = 0;
  private sendChain: Promise<void> = Promise.resolve();
  private registrationTimer: LongTimeout | undefined;
  private recoveryTimer: LongTimeout | undefined;
  private terminalAckTimer: LongTimeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(options: UpdateChannelOptions) {
    this.options = options;
  }

  get readyState(): ReadyState {
    return this.state;
  }

  open(): void {
    if (this.state !== 'registering' || this.registrationTimer) return;
    this.registrationTimer = new LongTimeout(() => {
      this.lose(`The agent did not accept SUBSCRIBE within ${formatDuration(this.options.registrationTimeoutMs)}`);
    }, this.options.registrationTimeoutMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_INTERVAL_MS);
    this.heartbeatTimer.unref();
    void this.subscriptionLoop();
  }

  // Records an update and sends it now if subscribed (else with the next SUBSCRIBE). False when
  // the ledger coalesced it: its task's latest pending update says the same.
  // Once closed, an update is still recorded (for the checkpoint), never sent.
  send(update: Update): boolean {
    if (!this.ledger.add(update)) return false;
    if (this.state === 'subscribed') {
      const generation = this.generation;
      this.sendChain = this.sendChain.then(() => this.post(update, generation));
    }
    this.armTerminalAckTimer();
    return true;
  }

  // Re-checks the fail-safe after the executor's view of its tasks changed.
  refresh(): void {
    this.armTerminalAckTimer();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const timer of [this.registrationTimer, this.recoveryTimer, this.terminalAckTimer]) timer?.cancel();
    clearInterval(this.heartbeatTimer);
    this.subscription?.close();
    this.options.connection.close();
  }

  // A method, not a comparison, so that a close during an await is seen after it.
  private closed(): boolean {
    return this.state === 'closed';
  }

  private lose(reason: string): void {
    if (this.state === 'closed') return;
    this.options.onLost(reason);
  }

  private async subscriptionLoop(): Promise<void> {
    while (this.state !== 'closed') {
      if (this.options.durable) {
        await this.options.durable();
        if (this.closed()) return;
      }
      const generation = ++this.generation;
      const call = this.subscribeCall();
      const carried = new Set(call.subscribe?.unacknowledged_updates ?? []);
      const subscription = this.options.connection.subscribe(call, {
        onOpen: () => this.onStreamOpen(generation, carried),
        onEvent: (event) => this.onEvent(event),
      });
      this.subscription = subscription;
      const end = await subscription.done;
      this.subscription = undefined;
      if (this.closed()) return;

      const wasOpen = this.state === 'subscribed';
      this.terminalAckTimer?.cancel();
      this.terminalAckTimer = undefined;
      if (end.kind === 'refused' && permanentRefusal(end.status)) {
        this.lose(`${end.message}; the agent does not know this executor any more`);
        return;
      }
      if (wasOpen || this.state === 'disconnected') {
        this.state = 'disconnected';
        if (wasOpen) log.warn(`Disconnected from agent: ${end.message}`);
        if (!this.options.checkpoint) {
          this.lose(`Disconnected from the agent (${end.message}) and the framework does not checkpoint`);
          return;
        }
        this.armRecoveryTimer(end.message);
      } else {
        log.warn(`SUBSCRIBE not accepted yet: ${end.message}`);
      }
      await sleep(end.kind === 'refused' && end.status !== undefined
        ? RESUBSCRIBE_AFTER_REFUSAL_MS
        : Math.max(50, Math.random() * this.options.subscriptionBackoffMaxMs));
    }
  }

  private subscribeCall(): Call {
    return {
      ...this.ids(),
      type: CallType.SUBSCRIBE,
      subscribe: {
        unacknowledged_tasks: this.options.unacknowledgedTasks((taskId) => this.ledger.isTaskAcknowledged(taskId)),
        unacknowledged_updates: this.ledger.unacknowledged(),
      },
    };
  }

  private ids(): Pick<Call, 'executor_id' | 'framework_id'> {
    return { executor_id: { value: this.options.executorId }, framework_id: { value: this.options.frameworkId } };
  }

  private onStreamOpen(generation: number, carried: ReadonlySet<unknown>): void {
    if (generation !== this.generation || this.state === 'closed') return;
    this.state = 'subscribed';
    this.registrationTimer?.cancel();
    this.recoveryTimer?.cancel();
    this.recoveryTimer = undefined;
    if (carried.size > 0) log.info(`Subscribed, resending ${carried.size} unacknowledged update(s)`);
    // Updates made while the SUBSCRIBE was on its way are not in it: send them now, in order.
    for (const update of this.ledger.unacknowledged()) {
      if (!carried.has(update)) this.sendChain = this.sendChain.then(() => this.post(update, generation));
    }
    this.armTerminalAckTimer();
  }

  private onEvent(event: Event): void {
    if (this.state === 'closed') return;
    if (event.type !== EventType.ACKNOWLEDGED) {
      this.options.onEvent(event);
      return;
    }
    const taskId = event.acknowledged?.task_id?.value ?? '';
    const update = this.ledger.acknowledge(event.acknowledged?.uuid ?? undefined);
    if (!update) {
      log.warn(`Ignoring an acknowledgement for an unknown update of task ${taskId}`);
      return;
    }
    log.info(`Agent acknowledged ${stateName(update.status.state)} of task ${taskId}`);
    this.options.onAcknowledged(update);
    this.armTerminalAckTimer();
  }

  // Sends one UPDATE, retrying while the same subscription lasts. Updates leave one at a time,
  // in order; anything not acknowledged goes out again with the next SUBSCRIBE.
  private async post(update: Update, generation: number): Promise<void> {
    const due = (): boolean => generation === this.generation && this.state === 'subscribed' && this.ledger.unacknowledged().includes(update);
    try {
      if (this.options.durable) await this.options.durable();
      await retry(async () => {
        if (due()) await this.options.connection.send({ ...this.ids(), type: CallType.UPDATE, update });
      }, (_attempt, error) => {
        const status = error instanceof AgentCallError ? error.status : undefined;
        if (status !== undefined && permanentRefusal(status)) {
          log.error(`Agent rejected ${stateName(update.status.state)} of task ${update.status.task_id?.value}: ${errorMessage(error)}`);
          return undefined;
        }
        if (!due()) return undefined;
        log.warn(`Could not send ${stateName(update.status.state)}: ${errorMessage(error)}; retrying`);
        return UPDATE_RETRY_MS;
      });
    } catch {
      // Refused for good (logged), or the subscription ended: the next SUBSCRIBE carries it.
    }
  }

  private heartbeat(): void {
    if (this.state !== 'subscribed') return;
    this.sendChain = this.sendChain
      .then(() => this.options.connection.send({ ...this.ids(), type: CallType.HEARTBEAT }))
      .catch((error) => log.warn(`Heartbeat failed: ${errorMessage(error)}`));
  }

  // Fail-safe while connected: the terminal update must be acknowledged within a bound.
  private armTerminalAckTimer(): void {
    const waiting = this.options.allTasksTerminal() && this.ledger.hasUnacknowledgedTerminal();
    if (!waiting || this.state !== 'subscribed') {
      if (!waiting) {
        this.terminalAckTimer?.cancel();
        this.terminalAckTimer = undefined;
      }
      return;
    }
    if (this.terminalAckTimer !== undefined) return;
    this.terminalAckTimer = new LongTimeout(() => {
      log.error('Did not receive ACK for the terminal status update from the agent');
      this.options.onTerminalUnacknowledged();
    }, this.options.terminalAckTimeoutMs);
  }

  private armRecoveryTimer(reason: string): void {
    if (this.recoveryTimer !== undefined) return;
    this.recoveryTimer = new LongTimeout(() => {
      this.lose(`Recovery timeout of ${formatDuration(this.options.recoveryTimeoutMs)} exceeded following the first connection failure: ${reason}`);
    }, this.options.recoveryTimeoutMs);
  }
}

// A refusal that retrying cannot cure (the agent does not know us, or our call is malformed).
function permanentRefusal(status: number | undefined): boolean {
  if (status === undefined) return false;
  return status >= 400 && status < 500 && status !== 404 && status !== 408 && status !== 429;
}
