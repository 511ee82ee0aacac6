// The operator policy flags of the local agent (`run`, `serve`; docs/operator-policy.md): the
// policy a framework's executor image must stay inside, and the same flags, as given, passed on to
// every executor, which applies them to its task's container.
import { parsePolicy, POLICY_FLAGS, type ContainerPolicy } from '../config/policy-flags.js';
import type { RawFlags } from '../config/flags.js';

export { POLICY_FLAGS };

export interface AgentPolicy {
  readonly policy: ContainerPolicy;
  // `--name=value` for each policy flag given.
  readonly executorFlags: string[];
}

export function agentPolicy(flags: RawFlags): AgentPolicy {
  const policy = parsePolicy(flags);
  const executorFlags = POLICY_FLAGS.flatMap(({ name }) => (flags.has(name) ? [`--${name}=${flags.get(name)}`] : []));
  return { policy, executorFlags };
}
