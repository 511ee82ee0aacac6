// `node dist/agent.js serve`: the long-running local agent with its HTTP API (src/agent/serve/README.md).
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../config/config-error.js';
import { parseDuration } from '../../config/duration.js';
import { formatHelp, parseBool, parseFlags, type FlagSpec, type RawFlags } from '../../config/flags.js';
import { fetcherFlags, fetcherSettings } from '../fetcher-flags.js';
import { agentPolicy, POLICY_FLAGS } from '../agent-policy-flags.js';
import { parseImageReference } from '../../docker/image-reference.js';
import { loggerFlags, loggerSettings } from '../logger-flags.js';
import { isLoopback } from './access.js';
import { generatedToken } from './generated-token.js';
import { createConsole } from '../console/attach-console.js';
import { consoleSource } from './console-source.js';
import { HttpApi } from './http-api.js';
import { ServeAgent } from './serve-agent.js';

// The environment variable that may hold the token instead of a file (never a flag: argv is public).
export const TOKEN_ENV = 'LOCAL_AGENT_AUTHENTICATION_TOKEN';
const DEFAULT_PORT = 5051;

const FLAGS: readonly FlagSpec[] = [
  { name: 'ip', kind: 'string', help: 'Address to listen on', default: '127.0.0.1' },
  { name: 'port', kind: 'int', help: 'Port to listen on (0: any free one); a restarted agent takes its checkpointed port', default: String(DEFAULT_PORT) },
  { name: 'work_dir', kind: 'string', help: 'Where sandboxes and the agent\'s checkpoint (meta/) are', default: join(tmpdir(), 'mesos-local-agent') },
  { name: 'authentication_token_file', kind: 'string', help: `A file holding the bearer token every request must carry (or set ${TOKEN_ENV})` },
  { name: 'authentication', kind: 'bool', help: 'Require a token; without a token file or variable, one is made in <work_dir>/meta/serve/token. false lets anything that reaches the port run containers as root', default: 'true' },
  { name: 'checkpoint', kind: 'bool', help: 'Checkpoint tasks so that a restarted agent on the same work_dir recovers them', default: 'true' },
  { name: 'recovery_timeout', kind: 'duration', help: 'How long executors try to reach a restarted agent, and how long it waits for them', default: '15mins' },
  { name: 'executor', kind: 'string', help: 'The executor entry to run, as an agent runs it', default: 'mesos-docker-executor beside this file' },
  { name: 'content_type', kind: 'string', help: 'Encoding the executors speak: protobuf or json', default: 'protobuf' },
  { name: 'docker_socket', kind: 'string', help: 'Docker daemon socket', default: '/var/run/docker.sock' },
  ...fetcherFlags('<work_dir>/fetcher-cache'),
  { name: 'docker_mesos_image', kind: 'string', help: 'Run each task\'s executor in a container of this image, built by scripts/build-executor-image.sh; it outlives the agent\'s restarts (docs/executor-containers.md)' },
  ...POLICY_FLAGS,
  ...loggerFlags(),
  { name: 'help', kind: 'bool', help: 'Print this help', default: 'false' },
];

const USAGE = 'Usage: node dist/agent.js serve [--name=value ...]\n\n'
  + 'Runs a local agent until interrupted: tasks submitted to its HTTP API (a TaskInfo in Mesos JSON,\n'
  + 'POST /api/v1/tasks) run through the Docker executor, many at once; GET /state lists them,\n'
  + 'POST /api/v1/tasks/<id>/kill kills one, /files/read and /files/browse read their sandboxes.\n'
  + 'See src/agent/serve/README.md.';

export async function serveCommand(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const flags = parseFlags(argv, FLAGS);
  if (parseBool('--help', flags.get('help') ?? 'false')) {
    process.stdout.write(`${formatHelp(USAGE, FLAGS)}\n`);
    return 0;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const executorPath = resolve(flags.get('executor') ?? join(here, 'mesos-docker-executor'));
  if (!existsSync(executorPath)) throw new ConfigError(`Executor '${executorPath}' does not exist: run 'npm run build' first`);
  const contentType = flags.get('content_type') ?? 'protobuf';
  if (contentType !== 'protobuf' && contentType !== 'json') throw new ConfigError(`Invalid --content_type '${contentType}': expected protobuf or json`);
  const ip = flags.get('ip') ?? '127.0.0.1';
  const workDir = resolve(flags.get('work_dir') ?? join(tmpdir(), 'mesos-local-agent'));
  const authentication = parseBool('--authentication', flags.get('authentication') ?? 'true');
  let token = readToken(flags);
  if (token !== undefined && !authentication) throw new ConfigError('--authentication=false with a token: give one or the other');
  let tokenFile: string | undefined;
  if (token === undefined && authentication) ({ token, path: tokenFile } = generatedToken(workDir));
  const checkpoint = parseBool('--checkpoint', flags.get('checkpoint') ?? 'true');
  const explicitPort = port(flags.get('port'));
  const { policy, executorFlags: policyFlags } = agentPolicy(flags);
  const mesosImage = dockerMesosImage(flags.get('docker_mesos_image'));

  const serve = await ServeAgent.start({
    workDir,
    executorPath,
    ip,
    // A restarted agent keeps its port unless one is named; with none checkpointed, the default.
    port: explicitPort ?? DEFAULT_PORT,
    portIsDefault: explicitPort === undefined || explicitPort === 0,
    token,
    checkpoint,
    recoveryTimeoutMs: duration(flags, 'recovery_timeout') ?? 15 * 60_000,
    dockerSocket: flags.get('docker_socket') ?? '/var/run/docker.sock',
    executorFlags: [`--content_type=${contentType}`, ...policyFlags],
    policy,
    ...(mesosImage !== undefined ? { dockerMesosImage: mesosImage } : {}),
    fetcher: fetcherSettings(flags, flags.get('fetcher_cache_dir') ?? join(workDir, 'fetcher-cache')),
    containerLogger: loggerSettings(flags, join(here, 'logrotate.js')),
    say: out,
  });
  const api = new HttpApi(serve, { token, ip });
  serve.route(api);
  // The live console behind the API's access check (/console, its WebSocket /console/ws).
  const liveConsole = createConsole(consoleSource(serve), { accessCheckedByCaller: true });
  api.onRequest((request, response) => {
    if (!liveConsole.handleRequest(request, response)) response.writeHead(404, { 'Content-Type': 'text/plain' }).end(`No endpoint ${(request.url ?? '/').split('?')[0]}\n`);
  });
  api.onUpgrade((request, socket, head) => {
    if (!liveConsole.handleUpgrade(request, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
  });
  out(`local agent ${serve.agent.agentId} serving on http://${ip.includes(':') ? `[${ip}]` : ip}:${serve.port}/ (work_dir ${workDir}${token ? ', token required' : ''})`);
  if (tokenFile !== undefined) out(`the token every request must carry is in ${tokenFile} (send it as Authorization: Bearer, or open the console once with ?token=)`);
  if (!token) out(`WARNING: --authentication=false: anything that reaches ${ip}:${serve.port}${isLoopback(ip) ? ', every host-network task container included,' : ''} can run containers as root`);

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string): void => {
      out(`${signal}: stopping; executors keep running${checkpoint ? ' and resubscribe when the agent is started again on this work_dir' : ''}`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      liveConsole.close();
      void serve.stop().then(resolveStop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

// The token from its file or the environment, never from argv; surrounding whitespace (the
// file's newline) is not part of it.
function readToken(flags: RawFlags): string | undefined {
  const file = flags.get('authentication_token_file');
  let token: string | undefined;
  if (file !== undefined) {
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`Cannot read --authentication_token_file '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (token === '') throw new ConfigError(`--authentication_token_file '${file}' is empty: expected the token`);
  } else if (process.env[TOKEN_ENV] !== undefined) {
    token = process.env[TOKEN_ENV]!.trim();
    if (token === '') throw new ConfigError(`${TOKEN_ENV} is empty: expected the token`);
  }
  // Nothing the agent starts inherits it.
  delete process.env[TOKEN_ENV];
  return token;
}

function port(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= 65535)) throw new ConfigError(`Invalid --port '${text}': expected a port from 0 to 65535`);
  return value;
}

function duration(flags: RawFlags, name: string): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new ConfigError(`Invalid --${name}: ${parsed.error}`);
  return parsed.ms;
}

function dockerMesosImage(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseImageReference(value);
  } catch (error) {
    throw new ConfigError(`Invalid --docker_mesos_image '${value}': ${(error as Error).message}`);
  }
  return value;
}
