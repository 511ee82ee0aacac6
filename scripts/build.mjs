// Bundles the executor (and the launcher/local agent) into single files under dist/ that run
// with no node_modules beside them, and writes the agent-facing shim dist/mesos-docker-executor.
import { chmodSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { shimScript } from './executor-shim.mjs';

const banner = {
  // protobufjs and split2 are CommonJS; ESM output needs a require() for them to load.
  js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
};

const entries = {
  executor: 'src/executor/main.ts',
  agent: 'src/agent/main.ts',
  // The local agent's rotating container logger, one process per stream (no protobuf in it).
  logrotate: 'src/logrotate/main.ts',
};

for (const [name, entry] of Object.entries(entries)) {
  await build({
    entryPoints: [entry],
    outfile: `dist/${name}.js`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    banner: { js: `#!/usr/bin/env node\n${banner.js}` },
    sourcemap: 'linked',
    legalComments: 'none',
    minify: true,
    logLevel: 'warning',
  });
}

// The shim runs the Node that built it, by absolute path.
writeFileSync('dist/mesos-docker-executor', shimScript({ nodePath: process.execPath }));
chmodSync('dist/mesos-docker-executor', 0o755);
