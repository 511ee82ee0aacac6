// A COMMAND check inside the container, as `docker exec` runs it but over the Engine API: create
// the exec with the check's argv and environment, start it attached, read its multiplexed output
// to the end, then read its exit code. When the attempt is cancelled (timeout or stop) the exec's
// process is killed on the host, since the daemon offers no way to stop an exec.
import { DockerError } from '../docker/docker-error.js';
import type { ContainerRuntime } from '../docker/container-runtime.js';
import { demuxOutput } from '../docker/output-demux.js';
import { errorMessage, log } from '../log.js';
import { OutputTail } from './output-tail.js';
import type { ProbeResult } from './probe-result.js';
import { killProcessTree } from './process-tree.js';

export interface ExecTarget {
  readonly containerId: string;
  // The container's main process on the host (State.Pid), to tell its PID namespace.
  readonly pid: number | undefined;
}

// How long the output may take to end once the exec's process was killed.
const KILLED_OUTPUT_WAIT_MS = 5000;

export async function commandProbe(
  docker: ContainerRuntime,
  target: ExecTarget,
  command: { readonly argv: readonly string[]; readonly env: readonly string[] },
  signal: AbortSignal,
): Promise<ProbeResult> {
  let execId: string;
  try {
    execId = await docker.execCreate(target.containerId, { cmd: command.argv, env: command.env }, signal);
  } catch (error) {
    // 409: the container is not running (any more); 404: it is gone. Its exit speaks for itself.
    if (error instanceof DockerError && (error.status === 409 || error.status === 404)) {
      return { kind: 'skipped', message: `the container is not running: ${error.message}` };
    }
    throw error;
  }
  signal.throwIfAborted();

  const socket = await docker.execStart(execId);
  const output = new OutputTail();
  const copied = demuxOutput(socket, output, output).then(() => undefined, () => undefined);
  let giveUp: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    // The output ends once the process is gone; the timer bounds a daemon that does not notice.
    giveUp = setTimeout(() => socket.destroy(), KILLED_OUTPUT_WAIT_MS);
    void killExec(docker, execId, target).then((killed) => {
      if (!killed) socket.destroy();
    });
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await copied;
  } finally {
    signal.removeEventListener('abort', onAbort);
    clearTimeout(giveUp);
    socket.destroy();
  }
  if (signal.aborted) throw signal.reason;

  const inspect = await docker.execInspect(execId);
  if (inspect.running || inspect.exitCode === null) {
    return { kind: 'error', message: `the output of the check's exec ended while it was still running` };
  }
  return { kind: 'exit', exitCode: inspect.exitCode, output: output.text };
}

// Kills the exec's process tree; false when there was nothing it could kill.
async function killExec(docker: ContainerRuntime, execId: string, target: ExecTarget): Promise<boolean> {
  try {
    const inspect = await docker.execInspect(execId);
    if (!inspect.running || !inspect.pid || !target.pid) return false;
    if (await killProcessTree(inspect.pid, target.pid)) return true;
    log.warn(`The check's process ${inspect.pid} is not in the container's PID namespace; not killing it`);
  } catch (error) {
    log.warn(`Could not stop the check's exec ${execId.slice(0, 12)}: ${errorMessage(error)}`);
  }
  return false;
}
