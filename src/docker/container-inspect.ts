// The parts of a container's inspect data the executor uses, read defensively (fields differ
// across Docker versions).

export interface ContainerInspect {
  Id?: string;
  Name?: string;
  Created?: string;
  State?: {
    Status?: string;
    Running?: boolean;
    Pid?: number;
    ExitCode?: number;
    OOMKilled?: boolean;
    Error?: string;
    StartedAt?: string;
    FinishedAt?: string;
  };
  Config?: { StopSignal?: string; Labels?: Record<string, string> };
  HostConfig?: { NetworkMode?: string; Memory?: number; CgroupParent?: string };
  NetworkSettings?: {
    IPAddress?: string;
    GlobalIPv6Address?: string;
    Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string }>;
  };
}

const NEVER = '0001-01-01T00:00:00Z';

export function hasStarted(inspect: ContainerInspect): boolean {
  const startedAt = inspect.State?.StartedAt;
  return inspect.State?.Running === true || (startedAt !== undefined && startedAt !== NEVER);
}

// IPv4/IPv6 of the container on its own network mode, as the stock executor reads them.
export function containerAddresses(inspect: ContainerInspect): { ipv4?: string; ipv6?: string } {
  const mode = inspect.HostConfig?.NetworkMode;
  const network = mode ? inspect.NetworkSettings?.Networks?.[mode] : undefined;
  const ipv4 = network ? network.IPAddress : inspect.NetworkSettings?.IPAddress;
  const ipv6 = network ? network.GlobalIPv6Address : inspect.NetworkSettings?.GlobalIPv6Address;
  return { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) };
}

export function stopSignal(inspect: ContainerInspect): string {
  const signal = inspect.Config?.StopSignal;
  if (!signal) return 'SIGTERM';
  if (/^[0-9]+$/.test(signal)) return signal;
  return signal.startsWith('SIG') ? signal : `SIG${signal}`;
}

// Inspect data as it may leave in a status update: the values of secret environment variables
// replaced, whatever their length, and any other registered secret redacted by the caller.
export function scrubInspectData(data: Uint8Array, secretNames: ReadonlySet<string>): string {
  const text = Buffer.from(data).toString('utf8');
  if (secretNames.size === 0) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  for (const entry of Array.isArray(parsed) ? parsed : [parsed]) {
    const config = (entry as { Config?: { Env?: unknown } } | null)?.Config;
    if (!config || !Array.isArray(config.Env)) continue;
    config.Env = config.Env.map((variable: unknown) => {
      if (typeof variable !== 'string') return variable;
      const name = variable.split('=', 1)[0]!;
      return secretNames.has(name) ? `${name}=***` : variable;
    });
  }
  return JSON.stringify(parsed);
}
