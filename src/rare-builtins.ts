// Node's built-in modules that only rare paths use (TLS to the agent, HTTPS checks, check helper
// processes), loaded on first use: imported at start, https and child_process would load a dozen
// of Node's modules (tls, dgram, ...) into every executor, most of which never run them.
import { createRequire } from 'node:module';

type Https = typeof import('node:https');
type ChildProcess = typeof import('node:child_process');

const require = createRequire(import.meta.url);

export function httpsModule(): Https {
  return require('node:https') as Https;
}

export function childProcessModule(): ChildProcess {
  return require('node:child_process') as ChildProcess;
}
