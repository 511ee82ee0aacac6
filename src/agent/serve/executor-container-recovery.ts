// What a restarted serve agent makes of an executor container a previous agent started (a
// framework's executor image, or this executor under --docker_mesos_image), from its inspect:
// taken back when it runs and its labels say it is this agent's executor container for that task,
// reported gone when it has exited or is missing. A container whose labels differ is not this
// agent's to act on, whatever its name. Pure: the caller inspects, adopts and removes.
import { CONTAINER_KIND_LABEL } from '../executor-container-spec.js';
import { identityLabels, identityMismatch } from '../../docker/container-owner.js';
import type { ContainerInspect } from '../../docker/container-inspect.js';

// Who the executor container must say it belongs to (launcher.ts writes these labels).
export interface ExecutorContainerIdentity {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly executorId: string;
  readonly taskId: string;
  readonly containerId: string;
  readonly sandbox: string;
  // The Docker id checkpointed once it was created; a container of that name with another id is
  // not the one this agent started.
  readonly dockerId?: string;
}

export type ExecutorContainerVerdict =
  | { readonly kind: 'running'; readonly dockerId: string }
  | { readonly kind: 'exited'; readonly dockerId: string; readonly exitCode: number | undefined }
  | { readonly kind: 'absent' }
  | { readonly kind: 'not-ours'; readonly why: string };

export function executorContainerVerdict(inspect: ContainerInspect | undefined, expected: ExecutorContainerIdentity): ExecutorContainerVerdict {
  if (inspect === undefined) return { kind: 'absent' };
  const id = inspect.Id ?? '';
  if (expected.dockerId !== undefined && id !== expected.dockerId) return { kind: 'not-ours', why: `its id is ${id.slice(0, 12)}, not ${expected.dockerId.slice(0, 12)}` };
  const mismatch = executorLabelMismatch(inspect.Config?.Labels, expected);
  if (mismatch !== undefined) return { kind: 'not-ours', why: `its label ${mismatch} differs` };
  if (inspect.State?.Running === true) return { kind: 'running', dockerId: id };
  return { kind: 'exited', dockerId: id, exitCode: inspect.State?.ExitCode };
}

// The first label that says the container is not this task's executor container, or undefined.
export function executorLabelMismatch(labels: Readonly<Record<string, string>> | null | undefined, expected: ExecutorContainerIdentity): string | undefined {
  if (labels?.[CONTAINER_KIND_LABEL] !== 'executor') return CONTAINER_KIND_LABEL;
  return identityMismatch(labels, identityLabels({
    frameworkId: expected.frameworkId,
    agentId: expected.agentId,
    executorId: expected.executorId,
    taskId: expected.taskId,
    containerId: expected.containerId,
    sandbox: expected.sandbox,
  }));
}
