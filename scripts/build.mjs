// Bundles the executor (and the launcher/local agent) into single files under dist/ that run
// with no node_modules beside them, and writes the agent-facing shim dist/mesos-docker-executor.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
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

// The shim runs the Node that built it, by absolute path, or the one SHIM_NODE_PATH names: a
// release tarball built here runs on agents whose Node may live elsewhere.
const nodePath = process.env.SHIM_NODE_PATH || process.execPath;
let shim;
try {
  shim = shimScript({ nodePath });
} catch (error) {
  console.error(`build: ${error.message} (SHIM_NODE_PATH names the Node the shim runs)`);
  process.exitCode = 1;
}

for (const [name, entry] of shim === undefined ? [] : Object.entries(entries)) {
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
  assertAscii(`dist/${name}.js`);
}

// V8 keeps a script's source in memory for as long as it runs, as Latin-1 when every character
// fits, else as UTF-16: one stray character doubles what each executor holds for it.
function assertAscii(path) {
  const text = readFileSync(path, 'latin1');
  const at = text.search(/[^\x00-\x7f]/);
  if (at >= 0) throw new Error(`${path} has a non-ASCII byte at offset ${at}: escape it in the source (\\uXXXX)`);
}

if (shim !== undefined) {
  writeFileSync('dist/mesos-docker-executor', shim);
  chmodSync('dist/mesos-docker-executor', 0o755);
}
