// The operator policy (--allow_privileged and the other policy flags, docs/operator-policy.md) over
// a framework's executor image, judged as the executor judges a task's container: on the create
// request made from the ExecutorInfo, where every way it asks for a field lands. The
// --docker_mesos_image container is the operator's own and is not judged.
import type { mesos } from '../proto/generated/mesos.js';
import type { ContainerPolicy } from '../config/policy-flags.js';
import { policyViolation } from '../docker/container-policy.js';
import type { CreateRequest } from '../docker/create-request.js';
import { realHostPath } from '../docker/real-host-path.js';

// The refusal naming the flag and the value, or undefined when the policy allows the container.
export function executorPolicyViolation(executor: mesos.v1.IExecutorInfo, body: CreateRequest, policy: ContainerPolicy, sandbox: string): string | undefined {
  // The policy reads the DockerInfo's parameters from a TaskInfo's container: the executor's is that.
  const asTask = { name: '', task_id: executor.executor_id ?? { value: '' }, agent_id: { value: '' }, container: executor.container ?? null };
  const refusal = policyViolation(asTask, body, policy, sandbox, realHostPath);
  return refusal === undefined ? undefined : `${refusal} (the ExecutorInfo's container)`;
}
