// --default_container_dns (a ContainerDNSInfo in JSON) and which of its entries a container gets
// (spec 3.6.7): the BRIDGE entry for bridge networking, for a USER network the entry naming it or
// else the USER entry without a name; never anything for HOST or NONE.
import { isIP } from 'node:net';
import { mesos } from '../proto/generated/mesos.js';
import { ExecutorError } from '../errors.js';

const { Network } = mesos.v1.ContainerInfo.DockerInfo;

export interface DnsSettings {
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
  readonly options: readonly string[];
}

export interface ContainerDns {
  readonly bridge: DnsSettings | undefined;
  readonly userDefault: DnsSettings | undefined;
  readonly userByName: ReadonlyMap<string, DnsSettings>;
}

// The flag is the operator's, not the task's: its errors say which flag to fix.
export class ContainerDnsError extends ExecutorError<'ERR_CONTAINER_DNS'> {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { name: 'ContainerDnsError', code: 'ERR_CONTAINER_DNS', cause: options.cause });
  }
}

const FLAG = '--default_container_dns';
const ENTRY_KEYS = new Set(['network_mode', 'network_name', 'dns']);
const DNS_KEYS = new Set(['nameservers', 'search', 'options']);
// A resolv.conf word: no whitespace, so a value cannot add lines or words of its own.
const RESOLV_WORD = /^[^\s\0]+$/;

// Accepts the parsed JSON (or its text); undefined or null means the flag was not given.
export function parseContainerDns(value: unknown): ContainerDns | undefined {
  if (value == null) return undefined;
  let json: unknown = value;
  if (typeof value === 'string') {
    try {
      json = JSON.parse(value) as unknown;
    } catch (error) {
      throw new ContainerDnsError(`${FLAG} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  const root = object(json, FLAG);
  for (const key of Object.keys(root)) {
    if (key !== 'docker' && key !== 'mesos') throw new ContainerDnsError(`${FLAG} has an unknown field '${key}': expected docker (and mesos, unused here)`);
  }
  if (root.mesos !== undefined && !Array.isArray(root.mesos)) throw new ContainerDnsError(`${FLAG}.mesos must be an array`);
  const entries = root.docker ?? [];
  if (!Array.isArray(entries)) throw new ContainerDnsError(`${FLAG}.docker must be an array of {network_mode, network_name, dns} entries`);

  let bridge: DnsSettings | undefined;
  let userDefault: DnsSettings | undefined;
  const userByName = new Map<string, DnsSettings>();
  entries.forEach((item: unknown, index) => {
    const field = `${FLAG}.docker[${index}]`;
    const entry = object(item, field);
    for (const key of Object.keys(entry)) {
      if (!ENTRY_KEYS.has(key)) throw new ContainerDnsError(`${field} has an unknown field '${key}': expected network_mode, network_name and dns`);
    }
    const dns = dnsSettings(entry.dns, `${field}.dns`);
    const name = entry.network_name;
    if (name !== undefined && (typeof name !== 'string' || name === '')) {
      throw new ContainerDnsError(`${field}.network_name is ${JSON.stringify(name)}: expected a non-empty network name`);
    }
    switch (entry.network_mode) {
      case 'BRIDGE':
        if (name !== undefined) throw new ContainerDnsError(`${field} is BRIDGE with network_name '${name}': only USER entries name a network`);
        if (bridge) throw new ContainerDnsError(`${field} is a second BRIDGE entry: only one DNS configuration is allowed for the bridge network`);
        bridge = dns;
        break;
      case 'USER':
        if (name === undefined) {
          if (userDefault) throw new ContainerDnsError(`${field} is a second USER entry without network_name: only one default is allowed for user-defined networks`);
          userDefault = dns;
        } else {
          if (userByName.has(name)) throw new ContainerDnsError(`${field} is a second USER entry for network '${name}'`);
          userByName.set(name, dns);
        }
        break;
      case 'HOST':
        throw new ContainerDnsError(`${field}.network_mode is HOST: default DNS cannot be set for the host network, expected BRIDGE or USER`);
      default:
        throw new ContainerDnsError(`${field}.network_mode is ${JSON.stringify(entry.network_mode)}: expected "BRIDGE" or "USER"`);
    }
  });
  return { bridge, userDefault, userByName };
}

// dockerNetwork is DockerInfo.network; networkName the final network.
export function defaultDns(dns: ContainerDns | undefined, dockerNetwork: number, networkName: string): DnsSettings | undefined {
  if (!dns) return undefined;
  if (dockerNetwork === Network.BRIDGE) return dns.bridge;
  if (dockerNetwork === Network.USER) return dns.userByName.get(networkName) ?? dns.userDefault;
  return undefined;
}

function dnsSettings(value: unknown, field: string): DnsSettings {
  if (value === undefined) throw new ContainerDnsError(`${field} is missing: expected {"nameservers": [...], "search": [...], "options": [...]}`);
  const dns = object(value, field);
  for (const key of Object.keys(dns)) {
    if (!DNS_KEYS.has(key)) throw new ContainerDnsError(`${field} has an unknown field '${key}': expected nameservers, search and options`);
  }
  const nameservers = strings(dns.nameservers, `${field}.nameservers`);
  nameservers.forEach((server, index) => {
    if (isIP(server) === 0) throw new ContainerDnsError(`${field}.nameservers[${index}] is '${server}': expected an IP address`);
  });
  const search = strings(dns.search, `${field}.search`);
  const options = strings(dns.options, `${field}.options`);
  for (const [list, name] of [[search, 'search'], [options, 'options']] as const) {
    list.forEach((word, index) => {
      if (!RESOLV_WORD.test(word)) throw new ContainerDnsError(`${field}.${name}[${index}] is ${JSON.stringify(word)}: expected a word without spaces`);
    });
  }
  return { nameservers, search, options };
}

function strings(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ContainerDnsError(`${field} is ${JSON.stringify(value)}: expected an array of strings`);
  }
  return [...value];
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContainerDnsError(`${field} is ${JSON.stringify(value)}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}
