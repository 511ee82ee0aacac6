// Removes the container of a task whose executor is gone, as the agent's destroy does, only when
// its labels say it is this agent's (framework, executor and container ids) and its owning
// executor process is no longer alive: a name alone proves nothing.
import { DockerError } from '../../docker/docker-error.js';
import type { ContainerRuntime } from '../../docker/container-runtime.js';
import { identityMismatch, ownership } from '../../docker/container-owner.js';

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
  const expected = {
    'org.apache.mesos.framework_id': container.frameworkId,
    'org.apache.mesos.executor_id': container.executorId,
    'org.apache.mesos.container_id': container.containerId,
  };
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
