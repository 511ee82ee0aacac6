// Removes the container of a task whose executor is gone, as the agent's destroy does, only when
// its labels say it is this agent's (framework, executor and container ids) and its owning
// executor process is no longer alive: a name alone proves nothing.
import { DockerError } from '../../docker/docker-error.js';
import type { ContainerRuntime } from '../../docker/container-runtime.js';
import { identityLabels, identityMismatch, ownership } from '../../docker/container-owner.js';
import type { ContainerInspect } from '../../docker/container-inspect.js';
import { executorContainerVerdict, type ExecutorContainerIdentity } from './executor-container-recovery.js';

export interface TaskContainer {
  readonly containerName: string;
  readonly frameworkId: string;
  readonly executorId: string;
  readonly containerId: string;
}

export type RemoveOutcome = 'removed' | 'absent' | 'not-ours' | 'owner-alive';

export async function removeTaskContainer(docker: ContainerRuntime, container: TaskContainer): Promise<RemoveOutcome> {
  let labels: Readonly<Record<string, string>> | null | undefined;
  try {
    labels = (await docker.inspect(container.containerName)).parsed.Config?.Labels;
  } catch (error) {
    if (error instanceof DockerError && error.notFound) return 'absent';
    throw error;
  }
  const expected = identityLabels({ frameworkId: container.frameworkId, executorId: container.executorId, containerId: container.containerId });
  if (identityMismatch(labels, expected) !== undefined) return 'not-ours';
  if (ownership(labels ?? {}) === 'alive') return 'owner-alive';
  try {
    await docker.remove(container.containerName);
  } catch (error) {
    if (error instanceof DockerError && error.notFound) return 'absent';
    throw error;
  }
  return 'removed';
}

// Removes a task's executor container that has exited (its agent was down when it did), only
// when its labels say it is this agent's executor container for that task (container-kind and
// identity labels, and the checkpointed id): a running one, or another's, is left alone.
export async function removeExecutorContainer(docker: ContainerRuntime, name: string, expected: ExecutorContainerIdentity): Promise<RemoveOutcome | 'running'> {
  let inspect: ContainerInspect;
  try {
    inspect = (await docker.inspect(expected.dockerId ?? name)).parsed;
  } catch (error) {
    if (error instanceof DockerError && error.notFound) return 'absent';
    throw error;
  }
  const verdict = executorContainerVerdict(inspect, expected);
  if (verdict.kind === 'not-ours') return 'not-ours';
  if (verdict.kind === 'running') return 'running';
  if (verdict.kind === 'absent') return 'absent';
  await docker.remove(verdict.dockerId);
  return 'removed';
}
