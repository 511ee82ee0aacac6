// The parts of the Engine API's POST /containers/create body (API 1.41) the executor fills in,
// typed so that a mapping cannot land on a misspelt field.

export interface PortBinding {
  readonly HostIp: string;
  readonly HostPort: string;
}

export interface Ulimit {
  readonly Name: string;
  readonly Soft: number;
  readonly Hard: number;
}

export interface DeviceMapping {
  readonly PathOnHost: string;
  readonly PathInContainer: string;
  readonly CgroupPermissions: string;
}

// Durations in nanoseconds, as the Engine API takes them.
export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface HostConfig {
  Binds: string[];
  NetworkMode: string;
  Privileged?: boolean;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Memory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number;
  OomScoreAdj?: number;
  OomKillDisable?: boolean;
  PidsLimit?: number;
  BlkioWeight?: number;
  ShmSize?: number;
  VolumeDriver?: string;
  PortBindings?: Record<string, PortBinding[]>;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  ExtraHosts?: string[];
  CapAdd?: string[];
  CapDrop?: string[];
  SecurityOpt?: string[];
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
  Ulimits?: Ulimit[];
  Tmpfs?: Record<string, string>;
  Devices?: DeviceMapping[];
  Sysctls?: Record<string, string>;
  GroupAdd?: string[];
  ReadonlyRootfs?: boolean;
  Init?: boolean;
  IpcMode?: string;
  PidMode?: string;
  UTSMode?: string;
  UsernsMode?: string;
  Runtime?: string;
  LogConfig?: { Type: string; Config: Record<string, string> };
  RestartPolicy?: { Name: string };
}

export interface CreateRequest {
  Image: string;
  Env: string[];
  Labels: Record<string, string>;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  Entrypoint?: string[];
  Cmd?: string[];
  Hostname?: string;
  User?: string;
  WorkingDir?: string;
  StopSignal?: string;
  StopTimeout?: number;
  MacAddress?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>>;
  Healthcheck?: HealthConfig;
  HostConfig: HostConfig;
}

// Sets an own, enumerable entry of a map-like field; plain assignment would swallow a key such
// as '__proto__' instead of sending it to Docker.
export function setEntry<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
