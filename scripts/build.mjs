// Bundles the executor (and the launcher/local agent) into single files under dist/ that run
// with no node_modules beside them.
import { build } from 'esbuild';

const banner = {
  // protobufjs is CommonJS; ESM output needs a require() for it to load.
  js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
};

const entries = {
  executor: 'src/executor/main.ts',
  agent: 'src/agent/main.ts',
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
