// Registry credentials for an image pull, found where the stock Mesos Docker containerizer finds
// them: a Docker config file in the task's sandbox wins, else the agent's --docker_config. They
// travel to the daemon only in the X-Registry-Auth header, never on a command line or in a log.
import { readFileSync, statSync } from 'node:fs';
import { ExecutorError } from '../errors.js';
import { registerSecret } from '../log.js';
import { describeJsonError } from '../protocol/json-error.js';
import { readSandboxFile, SandboxFileError } from '../sandbox-file.js';
import { DOCKER_HUB, type ImageReference, registryAuthKey } from './image-reference.js';

export interface RegistryAuth {
  // The X-Registry-Auth value: padded base64url of the daemon's AuthConfig JSON.
  readonly header: string;
  // Where the credentials came from, for messages: e.g. "sandbox .docker/config.json".
  readonly source: string;
  // Every secret value involved (already registered for redaction).
  readonly secrets: readonly string[];
}

export interface RegistryAuthOptions {
  readonly sandboxDirectory: string;
  // --docker_config as given: an absolute path, a file:// URI or inline JSON.
  readonly dockerConfig: string | undefined;
}

export type RegistryAuthErrorCode = 'ERR_REGISTRY_AUTH_UNREADABLE' | 'ERR_REGISTRY_AUTH_INVALID';

// A config file that cannot be read or does not hold what Docker writes. The message names the
// source and never carries a credential (nor any text of the file).
export class RegistryAuthError extends ExecutorError<RegistryAuthErrorCode> {
  readonly source: string;

  constructor(message: string, options: { code: RegistryAuthErrorCode; source: string; cause?: unknown }) {
    super(message, { name: 'RegistryAuthError', code: options.code, cause: options.cause });
    this.source = options.source;
  }
}

// The two layouts Docker has written: config.json ({"auths": {...}}) and the legacy .dockercfg
// (the registry map at the top level).
export type DockerConfigFormat = 'config.json' | 'dockercfg';

export interface DockerConfigText {
  readonly text: string;
  readonly source: string;
  readonly format: DockerConfigFormat | 'detect';
}

interface Credentials {
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
  readonly registrytoken?: string;
  readonly secrets: string[];
}

const MAX_CONFIG_BYTES = 1024 * 1024;
const HUB_HOSTS = new Set(['index.docker.io', 'docker.io', 'registry-1.docker.io']);

// The credentials for this image's registry, or undefined when the winning source has none.
export function loadRegistryAuth(image: ImageReference, options: RegistryAuthOptions): RegistryAuth | undefined {
  const config = findDockerConfig(options);
  return config === undefined ? undefined : authFromConfig(image, config);
}

// The winning config source, as the stock executor picks it: a sandbox .docker/config.json, else
// a sandbox .dockercfg, else --docker_config. A winning source is used whole, even when it has
// no entry for the image's registry.
export function findDockerConfig(options: RegistryAuthOptions): DockerConfigText | undefined {
  for (const [relative, format] of [['.docker/config.json', 'config.json'], ['.dockercfg', 'dockercfg']] as const) {
    const source = `sandbox ${relative}`;
    const text = readSandboxConfig(options.sandboxDirectory, relative, source);
    if (text !== undefined) return { text, source, format };
  }
  const flag = options.dockerConfig?.trim();
  if (!flag) return undefined;
  if (flag.startsWith('{')) return { text: flag, source: '--docker_config inline JSON', format: 'detect' };
  const path = flag.startsWith('file://') ? flag.slice('file://'.length) : flag;
  if (!path.startsWith('/')) {
    throw new RegistryAuthError(
      'Invalid --docker_config: expected an absolute path, a file:// URI of one, or a JSON object',
      { code: 'ERR_REGISTRY_AUTH_INVALID', source: '--docker_config' },
    );
  }
  const source = `--docker_config file ${path}`;
  return { text: readOperatorConfig(path, source), source, format: 'detect' };
}

// Picks this image's entry from a config's text and encodes it for the daemon. Registers every
// secret it meets before returning or throwing.
export function authFromConfig(image: ImageReference, config: DockerConfigText): RegistryAuth | undefined {
  const registries = registryMap(config);
  const found = findEntry(registries, image);
  if (found === undefined) return undefined;
  const credentials = entryCredentials(found.entry, found.key, config.source);
  if (credentials === undefined) return undefined;
  const serveraddress = registryAuthKey(image);
  const body: Record<string, string> = credentials.identitytoken !== undefined
    ? { identitytoken: credentials.identitytoken, serveraddress }
    : credentials.registrytoken !== undefined
      ? { registrytoken: credentials.registrytoken, serveraddress }
      : { username: credentials.username ?? '', password: credentials.password ?? '', serveraddress };
  const header = encodeAuthHeader(body);
  const secrets = [...credentials.secrets, header];
  secrets.forEach(registerSecret);
  return { header, source: config.source, secrets };
}

// Docker decodes X-Registry-Auth as base64url *with* padding; without it the daemon silently
// pulls with no credentials at all.
export function encodeAuthHeader(body: Record<string, string>): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

// The host[:port] a config key names: keys may carry a scheme and a path
// ("https://index.docker.io/v1/", "http://127.0.0.1:5000/v2/").
export function configKeyHost(key: string): string {
  return key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0]!.toLowerCase();
}

// The task's own file: never a link (nor a linked directory on the way), never outside the
// sandbox, and a refusal reveals nothing of the host file a link may point at.
function readSandboxConfig(sandbox: string, relative: string, source: string): string | undefined {
  let bytes: Buffer | undefined;
  try {
    bytes = readSandboxFile(sandbox, relative, MAX_CONFIG_BYTES);
  } catch (error) {
    if (!(error instanceof SandboxFileError)) throw error;
    const code = error.code === 'ERR_SANDBOX_FILE_TOO_BIG' ? 'ERR_REGISTRY_AUTH_INVALID' : 'ERR_REGISTRY_AUTH_UNREADABLE';
    throw new RegistryAuthError(`Cannot use the Docker config: ${error.message}`, { code, source });
  }
  return bytes?.toString('utf8');
}

// The operator's file (--docker_config): trusted, so its path may be named.
function readOperatorConfig(path: string, source: string): string {
  try {
    const stats = statSync(path);
    if (!stats.isFile()) {
      throw new RegistryAuthError(`Cannot read the Docker config from ${source}: it is not a regular file`, {
        code: 'ERR_REGISTRY_AUTH_UNREADABLE', source,
      });
    }
    if (stats.size > MAX_CONFIG_BYTES) {
      throw new RegistryAuthError(
        `Invalid Docker config in ${source}: it has ${stats.size} bytes, more than the ${MAX_CONFIG_BYTES} a config file may have`,
        { code: 'ERR_REGISTRY_AUTH_INVALID', source },
      );
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof RegistryAuthError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new RegistryAuthError(`Cannot read the Docker config from ${source} (${code ?? 'error'})`, {
      code: 'ERR_REGISTRY_AUTH_UNREADABLE', source, cause: error,
    });
  }
}

function registryMap(config: DockerConfigText): Record<string, unknown> {
  const expected = config.format === 'dockercfg'
    ? 'a JSON object mapping registries to {"auth": "<base64 of user:password>"}'
    : config.format === 'config.json'
      ? 'a JSON object like {"auths": {"<registry>": {"auth": "<base64 of user:password>"}}}'
      : 'a Docker config.json ({"auths": {"<registry>": {...}}}) or .dockercfg ({"<registry>": {...}}) JSON object';
  const invalid = (detail: string): RegistryAuthError => new RegistryAuthError(
    `Invalid Docker config in ${config.source}: ${detail}; expected ${expected}`,
    { code: 'ERR_REGISTRY_AUTH_INVALID', source: config.source },
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(config.text);
  } catch {
    // V8's message quotes the text around the fault, which may be a password: keep only where.
    throw invalid(`it is not valid JSON (${describeJsonError(config.text)})`);
  }
  if (!isObject(parsed)) throw invalid('it is not a JSON object');
  const format = config.format === 'detect' ? ('auths' in parsed ? 'config.json' : 'dockercfg') : config.format;
  if (format === 'dockercfg') return parsed;
  if (parsed.auths === undefined) return {};
  if (!isObject(parsed.auths)) throw invalid('"auths" is not a JSON object');
  return parsed.auths;
}

// Docker's own lookup: the exact key first, then any key naming the same host[:port].
function findEntry(registries: Record<string, unknown>, image: ImageReference): { key: string; entry: unknown } | undefined {
  const exact = registryAuthKey(image);
  if (Object.hasOwn(registries, exact)) return { key: exact, entry: registries[exact] };
  const wanted = image.registry.toLowerCase();
  for (const [key, entry] of Object.entries(registries)) {
    const host = configKeyHost(key);
    if (image.registry === DOCKER_HUB ? HUB_HOSTS.has(host) : host === wanted) return { key, entry };
  }
  return undefined;
}

function entryCredentials(entry: unknown, key: string, source: string): Credentials | undefined {
  const invalid = (detail: string): RegistryAuthError => new RegistryAuthError(
    `Invalid credentials for '${key}' in ${source}: ${detail}`,
    { code: 'ERR_REGISTRY_AUTH_INVALID', source },
  );
  if (!isObject(entry)) throw invalid('the entry is not a JSON object');
  const secrets: string[] = [];
  const secret = (value: string): void => {
    registerSecret(value);
    secrets.push(value);
  };
  const field = (name: string): string | undefined => {
    const value = entry[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw invalid(`"${name}" is not a string`);
    if (name !== 'username') secret(value);
    return value;
  };

  const auth = field('auth');
  const identitytoken = field('identitytoken');
  const registrytoken = field('registrytoken');
  let username = field('username');
  let password = field('password');
  if (auth !== undefined) {
    const decoded = /^[A-Za-z0-9+/=_-]+$/.test(auth) ? Buffer.from(auth, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw invalid('"auth" is not the base64 of user:password');
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
    secret(password);
  }
  if (identitytoken !== undefined) return { identitytoken, secrets };
  if (registrytoken !== undefined) return { registrytoken, secrets };
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) {
    throw invalid(`it has a ${username === undefined ? '"password"' : '"username"'} but no ${username === undefined ? '"username"' : '"password"'}`);
  }
  return { username, password, secrets };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
