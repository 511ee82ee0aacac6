// The resource arithmetic Mesos applies to a task (src/common/resources.cpp): scalar sums by name.
import type { mesos } from '../proto/generated/mesos.js';

export function scalarSum(resources: readonly mesos.v1.IResource[] | null | undefined, name: string): number | undefined {
  let total: number | undefined;
  for (const resource of resources ?? []) {
    if (resource.name === name && resource.scalar?.value != null) {
      total = (total ?? 0) + resource.scalar.value;
    }
  }
  return total;
}

// The role the task's resources are allocated to, as MESOS_ALLOCATION_ROLE reports it.
export function allocationRole(resources: readonly mesos.v1.IResource[] | null | undefined): string | undefined {
  const first = resources?.[0];
  return first?.allocation_info?.role ?? undefined;
}
