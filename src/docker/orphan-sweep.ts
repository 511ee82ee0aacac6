// Stops and removes containers this project created whose owning executor is gone (crashed,
// SIGKILLed, OOM-killed, or the machine rebooted). Run at every executor start and by
// `node dist/agent.js sweep`.
//
// The owner is judged by its pid only from the PID namespace the pid was recorded in: an executor
// in a container without pid=host has a pid no other namespace can see. When the executor ran in
// a Docker container (its labels name that container's id), Docker is asked whether that
// container still runs; the container vouches for the task only when it is named
// `<task container name>.executor` (spec 3.4), so a label naming some other running container
// protects nothing. Whatever cannot be judged is spared.
import { lstatSync } from 'node:fs';
import { CHECKPOINT_NAME } from '../executor/checkpoint.js';
import { dirname, join } from 'node:path';
import type { ContainerRuntime } from './container-runtime.js';
import { DockerError } from './docker-error.js';
import {
  EXECUTOR_CONTAINER_LABEL, OWNER_LABELS, PID_NAMESPACE_LABEL, STATE_DIRECTORY_LABEL, ownership, thisHost, type Host,
} from './container-owner.js';
import { errorMessage, log } from '../log.js';

export interface SweptContainer {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly removed: boolean;
  readonly error?: string;
  // Why its executor is judged gone.
  readonly why?: string;
}

// A live executor touches its checkpoint (in its private state directory) every few seconds; a
// container whose executor died less than this long ago is left for an executor started again to
// adopt.
export const DEFAULT_ADOPTION_WINDOW_MS = 30_000;

// What Docker says of the container an executor ran in.
export type ExecutorContainerState =
  | { readonly kind: 'running'; readonly name: string }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unknown'; readonly why: string };

export interface OwnerVerdict {
  readonly owner: 'alive' | 'gone' | 'unknown' | 'elsewhere' | 'unowned';
  readonly why: string;
}

// Whether a task container's executor lives, from its name and labels, this host (its PID
// namespace included) and, when the labels name the executor's container, what Docker says of it.
export function ownerVerdict(
  name: string,
  labels: Readonly<Record<string, string>>,
  host: Host,
  executorContainer: ExecutorContainerState | undefined,
): OwnerVerdict {
  const pid = labels[OWNER_LABELS.pid];
  const byPid = ownership(labels, host);
  if (byPid === 'unowned') return { owner: 'unowned', why: 'no executor pid label' };
  if (byPid === 'elsewhere') return { owner: 'elsewhere', why: `owned by an executor on ${labels[OWNER_LABELS.host]}` };
  if (labels[OWNER_LABELS.bootId] && labels[OWNER_LABELS.bootId] !== host.bootId) return { owner: 'gone', why: 'the machine rebooted since its executor started' };

  const containerId = labels[EXECUTOR_CONTAINER_LABEL];
  if (containerId) {
    const short = containerId.slice(0, 12);
    switch (executorContainer?.kind) {
      case undefined:
        return { owner: 'unknown', why: `its executor's container ${short} was not looked up` };
      case 'unknown':
        return { owner: 'unknown', why: `cannot tell whether its executor's container ${short} runs: ${executorContainer.why}` };
      case 'missing':
        return { owner: 'gone', why: `its executor's container ${short} no longer exists` };
      case 'stopped':
        return { owner: 'gone', why: `its executor's container ${short} has stopped` };
      case 'running':
        if (executorContainer.name.replace(/^\//, '') === `${name.replace(/^\//, '')}.executor`) {
          return { owner: 'alive', why: `its executor's container ${short} runs` };
        }
        // Not this task's executor container: the claim proves nothing; the pid decides.
        break;
    }
  }
  const namespace = labels[PID_NAMESPACE_LABEL];
  if (namespace && namespace !== host.pidNamespace) {
    return { owner: 'unknown', why: `its executor (pid ${pid}) ran in PID namespace ${namespace}, which this process cannot see` };
  }
  return byPid === 'alive'
    ? { owner: 'alive', why: `its executor (pid ${pid}) runs` }
    : { owner: 'gone', why: `its executor (pid ${pid}) is gone` };
}

export async function sweepOrphans(
  docker: ContainerRuntime,
  options: { host?: Host; dryRun?: boolean; adoptionWindowMs?: number; spare?: (labels: Readonly<Record<string, string>>) => boolean } = {},
): Promise<SweptContainer[]> {
  const windowMs = options.adoptionWindowMs ?? DEFAULT_ADOPTION_WINDOW_MS;
  const host = options.host ?? thisHost;
  const containers = await docker.list([OWNER_LABELS.pid]);
  const swept: SweptContainer[] = [];
  for (const { id, name, labels } of containers) {
    if (options.spare?.(labels)) continue;
    const executorContainer = labels[EXECUTOR_CONTAINER_LABEL] ? await containerState(docker, labels[EXECUTOR_CONTAINER_LABEL]) : undefined;
    const { owner, why } = ownerVerdict(name, labels, host, executorContainer);
    if (owner !== 'gone') continue;
    if (awaitingAdoption(labels, windowMs)) continue;
    if (options.dryRun) {
      swept.push({ id, name, labels, removed: false, why });
      continue;
    }
    try {
      await docker.remove(id);
      swept.push({ id, name, labels, removed: true, why });
      log.warn(`Removed orphaned container ${name}: ${why}`);
    } catch (error) {
      swept.push({ id, name, labels, removed: false, error: errorMessage(error), why });
      log.error(`Could not remove orphaned container ${name}: ${errorMessage(error)}`);
    }
  }
  return swept;
}

async function containerState(docker: ContainerRuntime, id: string): Promise<ExecutorContainerState> {
  try {
    const { parsed } = await docker.inspect(id);
    return parsed.State?.Running === true ? { kind: 'running', name: parsed.Name ?? '' } : { kind: 'stopped' };
  } catch (error) {
    if (error instanceof DockerError && error.notFound) return { kind: 'missing' };
    return { kind: 'unknown', why: errorMessage(error) };
  }
}

// The label names the owner's state directory (only the executor sets labels of this prefix).
//
// Whether a container whose executor is gone is left for an executor started again to adopt: its
// checkpoint was touched within the window, or the root of its state directory is out of this
// process's sight (a sweep run in another agent's executor container, which mounts only its own
// agent's root), so that the executor's death cannot be dated.
export function awaitingAdoption(
  labels: Readonly<Record<string, string>>,
  windowMs: number,
  lstat: (path: string) => { readonly mtimeMs: number } = lstatSync,
  now = Date.now(),
): boolean {
  const directory = labels[STATE_DIRECTORY_LABEL];
  if (!directory || !directory.startsWith('/') || windowMs <= 0) return false;
  try {
    return now - lstat(join(directory, CHECKPOINT_NAME)).mtimeMs < windowMs;
  } catch {
    try {
      lstat(dirname(directory));
      return false;
    } catch {
      return true;
    }
  }
}
