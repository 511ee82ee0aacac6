// Stops and removes containers this project created whose owning executor is gone (crashed,
// SIGKILLed, OOM-killed, or the machine rebooted). Run at every executor start and by
// `node dist/agent.js sweep`.
import { lstatSync } from 'node:fs';
import { CHECKPOINT_NAME } from '../executor/checkpoint.js';
import { join } from 'node:path';
import type { ContainerRuntime } from './container-runtime.js';
import { OWNER_LABELS, STATE_DIRECTORY_LABEL, ownership, thisHost, type Host } from './container-owner.js';
import { errorMessage, log } from '../log.js';

export interface SweptContainer {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly removed: boolean;
  readonly error?: string;
}

// A live executor touches its checkpoint (in its private state directory) every few seconds; a
// container whose executor died less than this long ago is left for an executor started again to
// adopt.
export const DEFAULT_ADOPTION_WINDOW_MS = 30_000;

export async function sweepOrphans(
  docker: ContainerRuntime,
  options: { host?: Host; dryRun?: boolean; adoptionWindowMs?: number; spare?: (labels: Readonly<Record<string, string>>) => boolean } = {},
): Promise<SweptContainer[]> {
  const windowMs = options.adoptionWindowMs ?? DEFAULT_ADOPTION_WINDOW_MS;
  const containers = await docker.list([OWNER_LABELS.pid]);
  const swept: SweptContainer[] = [];
  for (const { id, name, labels } of containers) {
    if (ownership(labels, options.host ?? thisHost) !== 'gone' || options.spare?.(labels)) continue;
    if (recentlyOwned(labels, windowMs)) continue;
    if (options.dryRun) {
      swept.push({ id, name, labels, removed: false });
      continue;
    }
    try {
      await docker.remove(id);
      swept.push({ id, name, labels, removed: true });
      log.warn(`Removed orphaned container ${name}: its executor (pid ${labels[OWNER_LABELS.pid]}) is gone`);
    } catch (error) {
      swept.push({ id, name, labels, removed: false, error: errorMessage(error) });
      log.error(`Could not remove orphaned container ${name}: ${errorMessage(error)}`);
    }
  }
  return swept;
}

// The label names the owner's state directory (only the executor sets labels of this prefix).
function recentlyOwned(labels: Readonly<Record<string, string>>, windowMs: number): boolean {
  const directory = labels[STATE_DIRECTORY_LABEL];
  if (!directory || !directory.startsWith('/') || windowMs <= 0) return false;
  try {
    return Date.now() - lstatSync(join(directory, CHECKPOINT_NAME)).mtimeMs < windowMs;
  } catch {
    return false;
  }
}
