// TaskInfo.health_check and TaskInfo.check, validated (spec 3.12 and 3.13, upstream
// validateHealthCheck and validateCheckInfo) into plain definitions with times in milliseconds.
// Pure: every bad definition is a table test, and a bad one fails the launch instead of the executor.
import { mesos } from '../proto/generated/mesos.js';
import { flooredInterval } from './check-interval.js';
import { ExecutorError } from '../errors.js';

// The names of CheckInfo.Type and HealthCheck.Type that can run (both enums have the same numbers).
export type CheckType = 'COMMAND' | 'HTTP' | 'TCP';

export type ProbeDefinition =
  | { readonly type: 'COMMAND'; readonly argv: readonly string[]; readonly env: readonly string[]; readonly secrets: readonly string[] }
  | { readonly type: 'HTTP'; readonly scheme: 'http' | 'https'; readonly port: number; readonly path: string; readonly ipv6: boolean }
  | { readonly type: 'TCP'; readonly port: number; readonly ipv6: boolean };

export interface CheckTiming {
  readonly delayMs: number;
  // Between the end of one attempt and the start of the next; at least MIN_CHECK_INTERVAL_MS.
  readonly intervalMs: number;
  // 0 means no timeout.
  readonly timeoutMs: number;
}

export interface HealthCheckDefinition extends CheckTiming {
  readonly probe: ProbeDefinition;
  readonly gracePeriodMs: number;
  readonly consecutiveFailures: number;
}

export interface GeneralCheckDefinition extends CheckTiming {
  readonly probe: ProbeDefinition;
}

// A definition that cannot be run: the message names the field, its value and what was expected.
export class InvalidCheckError extends ExecutorError<'ERR_INVALID_CHECK'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'InvalidCheckError', code: 'ERR_INVALID_CHECK', cause: options.cause });
  }
}

const CHECK_TYPES: readonly string[] = ['COMMAND', 'HTTP', 'TCP'] satisfies CheckType[];
const { IPv6 } = mesos.v1.NetworkInfo.Protocol;

// Set on the object itself: decoded messages read unset fields as their proto2 defaults.
function has(message: object | null | undefined, field: string): boolean {
  return message != null && Object.hasOwn(message, field) && (message as Record<string, unknown>)[field] != null;
}

export function healthCheckDefinition(check: mesos.v1.IHealthCheck): HealthCheckDefinition {
  const field = 'health_check';
  const type = checkType(check, field);
  let probe: ProbeDefinition;
  switch (type) {
    case 'COMMAND':
      if (!has(check, 'command')) throw new InvalidCheckError(`${field}.command is missing: a COMMAND health check needs the command to run`);
      probe = commandProbe(check.command!, `${field}.command`);
      break;
    case 'HTTP': {
      if (!has(check, 'http')) throw new InvalidCheckError(`${field}.http is missing: an HTTP health check needs at least a port`);
      const http = check.http!;
      const scheme = has(http, 'scheme') ? http.scheme! : 'http';
      if (scheme !== 'http' && scheme !== 'https') {
        throw new InvalidCheckError(`${field}.http.scheme is '${scheme}': expected 'http' or 'https'`);
      }
      probe = {
        type,
        scheme,
        port: port(http, `${field}.http.port`),
        path: path(http, `${field}.http.path`),
        ipv6: http.protocol === IPv6,
      };
      break;
    }
    case 'TCP':
      if (!has(check, 'tcp')) throw new InvalidCheckError(`${field}.tcp is missing: a TCP health check needs a port`);
      probe = { type, port: port(check.tcp!, `${field}.tcp.port`), ipv6: check.tcp!.protocol === IPv6 };
      break;
  }
  const consecutiveFailures = check.consecutive_failures ?? 3;
  return {
    probe,
    ...timing(check, field),
    gracePeriodMs: seconds(check.grace_period_seconds, 10, `${field}.grace_period_seconds`),
    consecutiveFailures,
  };
}

export function checkDefinition(check: mesos.v1.ICheckInfo): GeneralCheckDefinition {
  const field = 'check';
  const type = checkType(check, field);
  let probe: ProbeDefinition;
  switch (type) {
    case 'COMMAND':
      if (!has(check, 'command') || !has(check.command!, 'command')) {
        throw new InvalidCheckError(`${field}.command.command is missing: a COMMAND check needs the command to run`);
      }
      probe = commandProbe(check.command!.command!, `${field}.command.command`);
      break;
    case 'HTTP':
      if (!has(check, 'http')) throw new InvalidCheckError(`${field}.http is missing: an HTTP check needs at least a port`);
      probe = { type, scheme: 'http', port: port(check.http!, `${field}.http.port`), path: path(check.http!, `${field}.http.path`), ipv6: false };
      break;
    case 'TCP':
      if (!has(check, 'tcp')) throw new InvalidCheckError(`${field}.tcp is missing: a TCP check needs a port`);
      probe = { type, port: port(check.tcp!, `${field}.tcp.port`), ipv6: false };
      break;
  }
  return { probe, ...timing(check, field) };
}

function checkType(check: { type?: number | null }, field: string): CheckType {
  if (!has(check, 'type')) throw new InvalidCheckError(`${field}.type is missing: expected COMMAND, HTTP or TCP`);
  const name: string | undefined = mesos.v1.CheckInfo.Type[check.type!];
  if (name === undefined || !CHECK_TYPES.includes(name)) {
    throw new InvalidCheckError(`${field}.type is ${name ?? String(check.type)}: expected COMMAND, HTTP or TCP`);
  }
  return name as CheckType;
}

// shell=true (the proto default) runs `sh -c value`; shell=false runs value with its arguments.
function commandProbe(command: mesos.v1.ICommandInfo, field: string): ProbeDefinition {
  const shell = command.shell ?? true;
  const value = command.value ?? '';
  if (value === '') {
    throw new InvalidCheckError(shell
      ? `${field}.value is ${has(command, 'value') ? "''" : 'missing'}: expected the shell command to run (shell is true)`
      : `${field}.value is ${has(command, 'value') ? "''" : 'missing'}: expected the path of the executable to run (shell is false)`);
  }
  const argv = shell ? ['sh', '-c', value] : [value, ...(command.arguments ?? [])];
  const env: string[] = [];
  const secrets: string[] = [];
  for (const variable of command.environment?.variables ?? []) {
    const name = variable.name ?? '';
    if (name === '' || name.includes('=')) {
      throw new InvalidCheckError(`${field}.environment has a variable named '${name}': expected a non-empty name without '='`);
    }
    env.push(`${name}=${variableValue(variable, `${field}.environment`, secrets)}`);
  }
  return { type: 'COMMAND', argv, env, secrets };
}

function variableValue(variable: mesos.v1.Environment.IVariable, field: string, secrets: string[]): string {
  if (variable.type !== mesos.v1.Environment.Variable.Type.SECRET) {
    if (!has(variable, 'value')) throw new InvalidCheckError(`${field} variable '${variable.name}' has no value: expected a value`);
    return variable.value!;
  }
  const secret = variable.secret;
  if (secret?.type === mesos.v1.Secret.Type.VALUE && secret.value?.data != null) {
    const value = Buffer.from(secret.value.data).toString('utf8');
    if (value.includes('\0')) throw new InvalidCheckError(`${field} secret variable '${variable.name}' contains a NUL byte`);
    secrets.push(value);
    return value;
  }
  throw new InvalidCheckError(
    `${field} secret variable '${variable.name}' is a reference ('${secret?.reference?.name ?? ''}'): the agent's secret resolver must resolve it to a value before launch`,
  );
}

function port(info: { port?: number | null }, field: string): number {
  const value = info.port;
  if (value == null) throw new InvalidCheckError(`${field} is missing: expected a port from 1 to 65535`);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidCheckError(`${field} is ${value}: expected a port from 1 to 65535`);
  }
  return value;
}

function path(info: { path?: string | null }, field: string): string {
  if (!has(info, 'path')) return '';
  const value = info.path!;
  if (!value.startsWith('/')) throw new InvalidCheckError(`${field} is '${value}': expected a path starting with '/'`);
  return value;
}

function timing(
  check: { delay_seconds?: number | null; interval_seconds?: number | null; timeout_seconds?: number | null },
  field: string,
): CheckTiming {
  return {
    delayMs: seconds(check.delay_seconds, 15, `${field}.delay_seconds`),
    intervalMs: flooredInterval(seconds(check.interval_seconds, 10, `${field}.interval_seconds`)),
    timeoutMs: seconds(check.timeout_seconds, 20, `${field}.timeout_seconds`),
  };
}

// Seconds as milliseconds; Infinity stays Infinity (never, or no bound), NaN and negatives are refused.
function seconds(value: number | null | undefined, fallback: number, field: string): number {
  const secs = value ?? fallback;
  if (Number.isNaN(secs) || secs < 0) throw new InvalidCheckError(`${field} is ${secs}: expected a number of seconds >= 0`);
  return secs * 1000;
}

// How a check shows in messages, e.g. "COMMAND health check 'test -f /tmp/ok'".
export function describeProbe(probe: ProbeDefinition): string {
  switch (probe.type) {
    case 'COMMAND':
      return `COMMAND '${probe.argv[0] === 'sh' && probe.argv[1] === '-c' && probe.argv.length === 3 ? probe.argv[2] : probe.argv.join(' ')}'`;
    case 'HTTP':
      return `HTTP ${probe.scheme}://${probe.ipv6 ? '[::1]' : '127.0.0.1'}:${probe.port}${probe.path}`;
    case 'TCP':
      return `TCP ${probe.ipv6 ? '[::1]' : '127.0.0.1'}:${probe.port}`;
  }
}
