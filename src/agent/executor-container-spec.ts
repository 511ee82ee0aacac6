// The create request for an executor that runs in a Docker container, as the Docker containerizer
// makes it (spec 3.3, 3.4, 3.16.4). Two cases: the framework's own executor image (an ExecutorInfo
// whose ContainerInfo is DOCKER), and this project's executor in the --docker_mesos_image image.
// Pure: the caller creates, starts and reaps the container.
import { containerSpec } from '../docker/container-spec.js';
import type { CreateRequest } from '../docker/create-request.js';
import { InvalidTaskError } from '../docker/invalid-task-error.js';
import { parseImageReference } from '../docker/image-reference.js';
import { sandboxBind } from '../docker/volumes.js';
import type { mesos } from '../proto/generated/mesos.js';

// Marks a container as an executor's (not a task's), beside the task's identity labels.
export const CONTAINER_KIND_LABEL = 'org.apache.mesos.container_kind';

export interface ExecutorContainerContext {
  // The task's ContainerID; the executor container is `mesos-<ContainerID>.executor`.
  readonly containerId: string;
  readonly sandbox: string;
  // The agent's --sandbox_directory: where the sandbox also appears inside the container.
  readonly mappedDirectory: string;
  // The agent's environment contract (launcher.ts executorEnvironment): values only here, in the body.
  readonly environment: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

export interface MesosImageContext extends ExecutorContainerContext {
  readonly image: string;
  readonly dockerSocket: string;
  // The executors' state root (--state_dir): outside every sandbox, kept across restarts.
  readonly stateRoot: string;
  // The stock flags, as `--name=value`: the arguments of the image's executor entry (the shim).
  readonly flags: readonly string[];
  // The shim's path in the image.
  readonly executorPath: string;
  // The sandbox output files as the agent holds them open (/proc/<agent pid>/fd/<n>), which the
  // executor's stdout and stderr become before the shim starts.
  readonly output: { readonly stdout: string; readonly stderr: string };
}

// Reopens the agent's descriptors as stdout/stderr, then runs the shim with the flags. A path
// under /proc/<pid>/fd names the very file the agent opened (without following links in the
// sandbox), not whatever the sandbox holds under that name now.
const REDIRECT_SCRIPT = 'exec >>"$1" 2>>"$2" || exit 1; shift 2; exec "$@"';

export function executorContainerName(containerId: string): string {
  return `mesos-${containerId}.executor`;
}

// The ExecutorInfo's image as the executor: the ExecutorInfo's container and command (network
// HOST unless it says otherwise), the sandbox at its own path and at the mapped directory, and the
// agent's contract, which neither the ExecutorInfo's environment nor its DockerInfo env parameters
// can override.
export function customExecutorRequest(executor: mesos.v1.IExecutorInfo, context: ExecutorContainerContext): CreateRequest {
  const name = executorContainerName(context.containerId);
  const spec = containerSpec(
    {
      name,
      task_id: executor.executor_id ?? { value: '' },
      agent_id: { value: '' },
      container: executor.container ?? null,
      command: executor.command ?? null,
      resources: executor.resources ?? [],
    },
    {
      containerName: name,
      sandboxDirectory: context.sandbox,
      mappedDirectory: context.mappedDirectory,
      taskEnvironment: context.environment,
      cgroupsEnableCfs: false,
      labels: executorLabels(context.labels),
    },
  );
  const body = spec.body;
  return {
    ...body,
    Env: withContract(body.Env, context.environment),
    HostConfig: { ...body.HostConfig, Binds: [sandboxBind(context.sandbox, context.sandbox), ...body.HostConfig.Binds] },
  };
}

// The agent's contract applied last: the ExecutorInfo's DockerInfo `env`/`e` parameters come after
// the task environment in a task's precedence, and must not set an executor's MESOS_* values.
function withContract(env: readonly string[], contract: Readonly<Record<string, string>>): string[] {
  const merged = new Map(env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry] as const));
  for (const [name, value] of Object.entries(contract)) merged.set(name, `${name}=${value}`);
  return [...merged.keys()].sort().map((name) => merged.get(name)!);
}

// This project's executor in a container (--docker_mesos_image), writing straight into the
// sandbox files as an executor process does (so that an executor started again knows how much
// output was written, and a restarted agent loses none): the Docker socket (read-only, as
// the agent mounts it), the sandbox and the state root at their host paths; the host's PID
// namespace and SYS_ADMIN/SYS_PTRACE so that it can find and enter a task's namespaces (health
// checks, killing a check's process tree); the host's network to reach the agent on 127.0.0.1;
// the host's cgroup tree, read-only, for a task's memory counters.
export function mesosImageRequest(context: MesosImageContext): CreateRequest {
  parseImageReference(context.image);
  for (const [what, path] of [['--docker_socket', context.dockerSocket], ['--state_dir', context.stateRoot]] as const) {
    if (!path.startsWith('/') || path.includes(':') || path.includes(',')) {
      throw new InvalidTaskError(`${what} '${path}' cannot be mounted into the executor's container: expected an absolute path without ':' or ','`);
    }
  }
  const name = executorContainerName(context.containerId);
  const env: Record<string, string> = { ...context.environment, MESOS_SANDBOX: context.mappedDirectory, MESOS_CONTAINER_NAME: name };
  return {
    Image: context.image,
    Env: Object.keys(env).sort().map((key) => `${key}=${env[key]}`),
    Labels: executorLabels(context.labels),
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    Entrypoint: ['/bin/sh', '-c', REDIRECT_SCRIPT, 'sh', context.output.stdout, context.output.stderr, context.executorPath],
    Cmd: [...context.flags],
    WorkingDir: context.sandbox,
    HostConfig: {
      Binds: [
        `${context.dockerSocket}:${context.dockerSocket}:ro`,
        sandboxBind(context.sandbox, context.sandbox),
        `${context.stateRoot}:${context.stateRoot}`,
        '/sys/fs/cgroup:/sys/fs/cgroup:ro',
        sandboxBind(context.sandbox, context.mappedDirectory),
      ],
      NetworkMode: 'host',
      PidMode: 'host',
      CapAdd: ['SYS_ADMIN', 'SYS_PTRACE'],
    },
  };
}

function executorLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return { ...labels, [CONTAINER_KIND_LABEL]: 'executor' };
}
