// Runs, watches and reaps an executor that lives in a Docker container (a framework's executor
// image, or this project's executor under --docker_mesos_image): the agent's half of what
// launchExecutor does for a process. Whatever the container writes on its own stdout/stderr is
// copied byte for byte from its attach stream into the sandbox files, or into the rotating
// loggers' inputs (this project's executor writes into them directly); the container is removed
// once it has exited and its output is copied. It acts on an existing container of the same name only when
// that container's labels say it is this executor's. A restarted agent takes back a running one
// (adopt): it follows its output and exit again and reaps it as it would have.
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ContainerRuntime, OutputStream } from '../docker/container-runtime.js';
import type { CreateRequest } from '../docker/create-request.js';
import { DockerError } from '../docker/docker-error.js';
import { ensureImage } from '../docker/image-pull.js';
import { demuxOutput } from '../docker/output-demux.js';
import { ExecutorError } from '../errors.js';
import { errorMessage } from '../log.js';
import { timerMs } from '../timers.js';
import { CONTAINER_KIND_LABEL } from './executor-container-spec.js';
import type { ExecutorProcess } from './launcher.js';

export interface ExecutorContainerOptions {
  readonly docker: ContainerRuntime;
  readonly name: string;
  // The create request, made when the launch starts (what it throws fails the launch).
  readonly body: () => CreateRequest;
  // The sandbox output files, open (openSandboxOutput), or the loggers' inputs; ended once the
  // container is gone.
  readonly output: ContainerOutput;
  // Pull the image when it is missing (a framework's image); otherwise it must be present.
  readonly pull: boolean;
  // How long the output may take to end once the container has exited.
  readonly outputDrainMs?: number;
}

// An executor container a previous agent started, found running (its labels checked by the caller).
export interface AdoptedContainerOptions {
  readonly docker: ContainerRuntime;
  readonly name: string;
  readonly id: string;
  readonly output: ContainerOutput;
  readonly outputDrainMs?: number;
}

// Where the container's attach stream goes: a descriptor (a sandbox file) or a stream.
export interface ContainerOutput {
  readonly stdout: number | Writable;
  readonly stderr: number | Writable;
}

export interface ExecutorExit {
  // The container's exit code; null when it never ran or its end could not be learnt.
  readonly code: number | null;
  // Why the container could not be started (the agent reports the task TASK_FAILED).
  readonly launchError?: string;
  // The operator policy refused the container (nothing was created).
  readonly refused?: boolean;
  // The agent stopped following it (detach): it may run on, and nothing is known of its end.
  readonly detached?: boolean;
}

export class ExecutorContainerError extends ExecutorError<'ERR_EXECUTOR_CONTAINER'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'ExecutorContainerError', code: 'ERR_EXECUTOR_CONTAINER', cause: options.cause });
  }
}

// The operator policy refuses what the ExecutorInfo's container asks of the host.
export class ExecutorPolicyError extends ExecutorError<'ERR_EXECUTOR_POLICY'> {
  constructor(message: string) {
    super(message, { name: 'ExecutorPolicyError', code: 'ERR_EXECUTOR_POLICY' });
  }
}

const DEFAULT_OUTPUT_DRAIN_MS = 10_000;
const WAIT_ATTEMPTS = 5;
const WAIT_RETRY_MS = 1000;

export class ExecutorContainer implements ExecutorProcess {
  readonly name: string;
  readonly exited: Promise<ExecutorExit>;
  readonly stdout = null;
  readonly stderr = null;
  // The executor's process on the host, once the container runs (State.Pid).
  pid: number | undefined;
  // Settles with the container's id once it is created (undefined when it never was); for an
  // adopted one, once its output is followed again.
  readonly created: Promise<string | undefined>;
  private readonly options: ExecutorContainerOptions | AdoptedContainerOptions;
  private id: string | undefined;
  private started = false;
  private pendingSignal: string | undefined;
  // Aborts the long-running watches (attach, wait) when the agent lets the container go.
  private readonly watching = new AbortController();
  private announce: (id: string | undefined) => void = () => undefined;

  private constructor(options: ExecutorContainerOptions | AdoptedContainerOptions) {
    this.options = options;
    this.name = options.name;
    this.created = new Promise((resolve) => {
      this.announce = resolve;
    });
    this.exited = 'id' in options ? this.follow(options.id) : this.run(options);
    void this.exited.finally(() => this.announce(this.id));
  }

  static start(options: ExecutorContainerOptions): ExecutorContainer {
    return new ExecutorContainer(options);
  }

  static adopt(options: AdoptedContainerOptions): ExecutorContainer {
    return new ExecutorContainer(options);
  }

  // The container's id, once created (or adopted).
  get containerId(): string | undefined {
    return this.id;
  }

  // The container outlives the agent by itself; only the agent's own watch of it is held here.
  unref(): void {}

  // Stops following the container, which runs on: the agent is going away, and the next one on
  // this work directory takes it back. Nothing is removed.
  detach(): void {
    this.watching.abort();
  }

  private get detached(): boolean {
    return this.watching.signal.aborted;
  }

  // Signals the executor's container (once it has started; a signal before that is sent then).
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const name = String(signal);
    if (!this.started || this.id === undefined) {
      this.pendingSignal = name;
      return true;
    }
    this.options.docker.kill(this.id, name).catch(() => undefined);
    return true;
  }

  private async run(options: ExecutorContainerOptions): Promise<ExecutorExit> {
    const { docker } = options;
    const { stdout, stderr } = outputStreams(options.output);
    try {
      const body = options.body();
      await this.removeStale(body);
      await this.ensureImage(body.Image, options.pull);
      if (this.detached) throw new ExecutorContainerError(`The agent let ${this.name} go before creating it`);
      this.id = await docker.create(this.name, body);
      this.announce(this.id);
      const output = await docker.attach(this.id, this.watching.signal);
      const copied = this.copy(output, stdout, stderr);
      const watch = await docker.wait(this.id, 'next-exit', this.watching.signal);
      await docker.start(this.id);
      this.started = true;
      this.pid = await docker.inspect(this.id).then(({ parsed }) => parsed.State?.Pid || undefined, () => undefined);
      if (this.pendingSignal !== undefined) this.kill(this.pendingSignal as NodeJS.Signals);
      const code = await this.exitCode(watch.result);
      await bounded(copied, options.outputDrainMs ?? DEFAULT_OUTPUT_DRAIN_MS, () => output.destroy());
      return { code };
    } catch (error) {
      if (this.detached) return { code: null, detached: true };
      const why = errorMessage(error);
      if (this.started) return { code: null };
      stderr.write(`local agent: could not start the executor's container ${this.name}: ${why}\n`);
      if (error instanceof ExecutorPolicyError) return { code: null, launchError: why, refused: true };
      return { code: null, launchError: `Failed to launch the executor's container ${this.name}: ${why}` };
    } finally {
      await this.reap(stdout, stderr);
    }
  }

  // A running container a previous agent started: its output followed from now on (what it wrote
  // while no agent was attached stays in its Docker log), its exit awaited, then reaped.
  private async follow(id: string): Promise<ExecutorExit> {
    const options = this.options as AdoptedContainerOptions;
    const { docker } = options;
    const { stdout, stderr } = outputStreams(options.output);
    this.id = id;
    this.started = true;
    try {
      const output = await docker.attach(id, this.watching.signal);
      const copied = this.copy(output, stdout, stderr);
      this.announce(id);
      const watch = await docker.wait(id, 'not-running', this.watching.signal);
      this.pid = await docker.inspect(id).then(({ parsed }) => parsed.State?.Pid || undefined, () => undefined);
      const code = await this.exitCode(watch.result);
      await bounded(copied, options.outputDrainMs ?? DEFAULT_OUTPUT_DRAIN_MS, () => output.destroy());
      return { code };
    } catch {
      return this.detached ? { code: null, detached: true } : { code: null };
    } finally {
      await this.reap(stdout, stderr);
    }
  }

  private copy(output: OutputStream, stdout: Writable, stderr: Writable): Promise<void> {
    return demuxOutput(output, stdout, stderr).then(() => undefined, (error: Error) => {
      stderr.write(`local agent: the output of ${this.name} was cut: ${error.message}\n`);
    });
  }

  // Removed first: the executor in it holds the output files open through these descriptors.
  private async reap(stdout: Writable, stderr: Writable): Promise<void> {
    if (this.id !== undefined && !this.detached) await this.options.docker.remove(this.id).catch(() => undefined);
    await Promise.all([stdout, stderr].map((stream) => finished(stream.end()).catch(() => undefined)));
  }

  // The exit code from the registered wait; a lost wait (the daemon restarting) is registered again.
  private async exitCode(first: Promise<{ statusCode: number }>): Promise<number | null> {
    let result = first;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return (await result).statusCode;
      } catch (error) {
        if (attempt >= WAIT_ATTEMPTS || this.detached) throw error;
        await new Promise((resolve) => setTimeout(resolve, timerMs(WAIT_RETRY_MS)));
        result = this.options.docker.wait(this.id!, 'not-running', this.watching.signal).then((watch) => watch.result);
      }
    }
  }

  // A container left under this name by an earlier run of the same executor (an agent that
  // died before reaping it) is removed; any other container of that name is not touched.
  private async removeStale(body: CreateRequest): Promise<void> {
    const { docker } = this.options;
    let labels: Readonly<Record<string, string>>;
    let id: string;
    try {
      const { parsed } = await docker.inspect(this.name);
      labels = parsed.Config?.Labels ?? {};
      id = parsed.Id ?? this.name;
    } catch (error) {
      if (error instanceof DockerError && error.notFound) return;
      throw error;
    }
    const key = 'org.apache.mesos.container_id';
    if (labels[CONTAINER_KIND_LABEL] !== 'executor' || labels[key] === undefined || labels[key] !== body.Labels[key]) {
      throw new ExecutorContainerError(`A container named ${this.name} exists and is not this executor's (its labels differ); it was left alone`);
    }
    await docker.remove(id);
  }

  private async ensureImage(image: string, pull: boolean): Promise<void> {
    const { docker } = this.options;
    if (await docker.hasImage(image)) return;
    if (!pull) throw new ExecutorContainerError(`The image ${image} is not present: build it with scripts/build-executor-image.sh`);
    await ensureImage(docker, image, { forcePull: false, auth: undefined, onProgress: () => undefined });
  }
}

// The output as streams; a failed write ends the copy (demuxOutput rejects), it must not crash
// the agent.
function outputStreams(output: ContainerOutput): { stdout: Writable; stderr: Writable } {
  const stream = (target: number | Writable): Writable => (typeof target === 'number' ? createWriteStream('', { fd: target }) : target);
  const stdout = stream(output.stdout);
  const stderr = stream(output.stderr);
  for (const sink of [stdout, stderr]) sink.on('error', () => undefined);
  return { stdout, stderr };
}

// Waits for `promise` at most `ms`, then calls `giveUp` and waits for it to settle.
async function bounded(promise: Promise<void>, ms: number, giveUp: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timerMs(ms));
  });
  const inTime = await Promise.race([promise.then(() => true), late]);
  clearTimeout(timer);
  if (!inTime) {
    giveUp();
    await promise;
  }
}
