// Which log driver the task's container gets when the task names none (--container_log_driver).
// The daemon copies every byte of the container's output into its log as well as to the
// executor; its default `json-file` driver escapes each byte into JSON, which bounds the
// throughput of a task's output. Docker's `local` driver stores the bytes as they are. The log
// stays the one an executor started again replays from (`docker logs`, from the first byte past
// what the sandbox holds), so it is kept whole: one file, never rotated, never compressed. It
// holds what a json-file log without log-opts would (the task's whole output, until the
// container is removed at the task's end), in fewer bytes.
import type { CreateRequest, HostConfig } from './create-request.js';

export type LogConfig = NonNullable<HostConfig['LogConfig']>;

// daemon (the default): the daemon's default driver with its log-opts (as the stock executor): an
// operator's disk bound for json-file (max-size in daemon.json, which the API does not show) holds;
// auto: `local` when the daemon's default driver is json-file, else the daemon's default;
// local: always `local`.
export const CONTAINER_LOG_DRIVERS = ['auto', 'daemon', 'local'] as const;
export type ContainerLogDriver = (typeof CONTAINER_LOG_DRIVERS)[number];

// max-size far beyond any task's output: a rotation would cut the log's head, and the replay
// after a restart counts from the first byte.
export const RESUMABLE_LOCAL_LOG: LogConfig = { Type: 'local', Config: { 'max-file': '1', 'max-size': '1024g', compress: 'false' } };

// The log configuration the executor sets, or undefined for the daemon's own default.
export function containerLogConfig(choice: ContainerLogDriver, daemonDefault: string | undefined): LogConfig | undefined {
  switch (choice) {
    case 'daemon':
      return undefined;
    case 'local':
      return RESUMABLE_LOCAL_LOG;
    case 'auto':
      return daemonDefault === 'json-file' ? RESUMABLE_LOCAL_LOG : undefined;
  }
}

// The task's own log-driver or log-opt parameters win: the operator's choice fills only a gap.
export function withLogConfig(body: CreateRequest, logConfig: LogConfig | undefined): CreateRequest {
  if (!logConfig || body.HostConfig.LogConfig) return body;
  return { ...body, HostConfig: { ...body.HostConfig, LogConfig: { Type: logConfig.Type, Config: { ...logConfig.Config } } } };
}
