// Command-line flags in the Mesos style: every flag as --name=value, booleans also as --name and
// --no-name. Unknown and repeated flags are errors, as in the stock mesos-docker-executor.
import { ConfigError } from './config-error.js';

export type FlagKind = 'string' | 'bool' | 'duration' | 'int';

export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly help: string;
  readonly default?: string;
}

export type RawFlags = Map<string, string>;

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): RawFlags {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const values: RawFlags = new Map();
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) {
      throw new ConfigError(`Unexpected argument '${arg}': flags take the form --name=value`);
    }
    const eq = arg.indexOf('=');
    let name = (eq === -1 ? arg.slice(2) : arg.slice(2, eq)).toLowerCase();
    let value = eq === -1 ? undefined : arg.slice(eq + 1).trim();
    let spec = byName.get(name);
    if (!spec && value === undefined && name.startsWith('no-')) {
      const positive = byName.get(name.slice(3));
      if (positive?.kind === 'bool') {
        spec = positive;
        name = positive.name;
        value = 'false';
      }
    }
    if (!spec) {
      throw new ConfigError(`Unknown flag '--${name}' (see --help for the flags this executor accepts)`);
    }
    if (value === undefined) {
      if (spec.kind !== 'bool') throw new ConfigError(`Flag '--${name}' needs a value: --${name}=<${spec.kind}>`);
      value = 'true';
    }
    if (values.has(name)) throw new ConfigError(`Flag '--${name}' was given more than once`);
    values.set(name, value);
  }
  return values;
}

export function parseBool(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`Invalid value '${value}' for ${name}: expected true or false`);
}

export function formatHelp(usage: string, specs: readonly FlagSpec[]): string {
  const lines = [usage, '', 'Flags (each as --name=value):'];
  const width = Math.max(...specs.map((spec) => spec.name.length + spec.kind.length + 5));
  for (const spec of specs) {
    const left = `  --${spec.name}=<${spec.kind}>`.padEnd(width + 2);
    const suffix = spec.default !== undefined ? ` (default: ${spec.default})` : '';
    lines.push(`${left} ${spec.help}${suffix}`);
  }
  return lines.join('\n');
}
