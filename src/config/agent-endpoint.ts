// Where the agent's executor API lives, derived as the reference v1 library does: from the
// agent's libprocess PID (MESOS_SLAVE_PID, giving the "slave(1)" path prefix that the domain
// socket requires), falling back to MESOS_AGENT_ENDPOINT.
import { relative } from 'node:path';
import { ConfigError } from './config-error.js';

export interface AgentEndpoint {
  readonly protocol: 'http:' | 'https:';
  readonly host?: string;
  readonly port?: number;
  readonly socketPath?: string;
  readonly path: string;
  // For log lines and errors.
  readonly description: string;
}

// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
const DOMAIN_SOCKET_MAX_PATH_LENGTH = 108;

export function agentEndpoint(env: NodeJS.ProcessEnv, cwd: string): AgentEndpoint {
  const https = ['1', 'true'].includes((env.LIBPROCESS_SSL_ENABLED ?? '').toLowerCase());
  const protocol = https ? 'https:' : 'http:';
  const pid = env.MESOS_SLAVE_PID;
  const socket = env.MESOS_DOMAIN_SOCKET;

  if (pid !== undefined && pid !== '') {
    const upid = parseUpid(pid);
    const path = `/${upid.id}/api/v1/executor`;
    if (socket) {
      const socketPath = socketPathFor(socket, cwd);
      return { protocol: 'http:', socketPath, path, description: `unix:${socket}${path}` };
    }
    return {
      protocol,
      host: upid.host,
      port: upid.port,
      path,
      description: `${protocol}//${formatHost(upid.host)}:${upid.port}${path}`,
    };
  }

  const endpoint = env.MESOS_AGENT_ENDPOINT;
  if (endpoint !== undefined && endpoint !== '') {
    const { host, port } = parseHostPort(endpoint, 'MESOS_AGENT_ENDPOINT');
    const path = '/api/v1/executor';
    if (socket) {
      return { protocol: 'http:', socketPath: socketPathFor(socket, cwd), path, description: `unix:${socket}${path}` };
    }
    return { protocol, host, port, path, description: `${protocol}//${formatHost(host)}:${port}${path}` };
  }

  throw new ConfigError(
    "Expecting 'MESOS_SLAVE_PID' (like slave(1)@10.0.0.5:5051) or 'MESOS_AGENT_ENDPOINT' (like 10.0.0.5:5051) to be set in the environment",
  );
}

export function parseUpid(text: string): { id: string; host: string; port: number } {
  const at = text.indexOf('@');
  const id = at > 0 ? text.slice(0, at) : '';
  if (!/^[A-Za-z0-9_()\-.]+$/.test(id)) {
    throw new ConfigError(`Invalid MESOS_SLAVE_PID '${text}': expected <id>@<ip>:<port>, like slave(1)@10.0.0.5:5051`);
  }
  const { host, port } = parseHostPort(text.slice(at + 1), 'MESOS_SLAVE_PID', text);
  return { id, host, port };
}

function parseHostPort(text: string, name: string, whole = text): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):([0-9]{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) {
    const shape = name === 'MESOS_SLAVE_PID' ? '<id>@<ip>:<port>' : '<ip>:<port>';
    throw new ConfigError(`Invalid ${name} '${whole}': expected ${shape} with a port from 1 to 65535`);
  }
  return { host: match[1] ?? match[2]!, port };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function socketPathFor(socket: string, cwd: string): string {
  if (Buffer.byteLength(socket) < DOMAIN_SOCKET_MAX_PATH_LENGTH) return socket;
  const shorter = `./${relative(cwd, socket)}`;
  if (Buffer.byteLength(shorter) < DOMAIN_SOCKET_MAX_PATH_LENGTH) return shorter;
  throw new ConfigError(
    `MESOS_DOMAIN_SOCKET '${socket}' is too long: a unix socket path must be shorter than ${DOMAIN_SOCKET_MAX_PATH_LENGTH} bytes, even relative to the working directory`,
  );
}
