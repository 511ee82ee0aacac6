// Generates src/proto/generated/{mesos.js,mesos.d.ts,descriptor.json} from the project's .proto
// subset with the protobufjs CLI in node_modules. Skips the work when the outputs are newer than
// the inputs; `--force` regenerates anyway.
import { mkdtemp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(root, 'src/proto');
const outDir = join(root, 'src/proto/generated');
const protos = [join(protoDir, 'mesos.proto'), join(protoDir, 'executor.proto')];
const inputs = [...protos, fileURLToPath(import.meta.url)];
const outputs = ['mesos.js', 'mesos.d.ts', 'descriptor.json'].map((name) => join(outDir, name));

// The ESM wrapper of `pbjs -w es6`, plus one step: int64 fields decode as plain numbers (values
// above 2^53 lose precision) instead of long.js objects. It must run before the generated code,
// which evaluates int64 defaults with `$util.Long` at load time.
const wrapper = `import $protobuf from $DEPENDENCY;

// int64/uint64 fields are plain numbers in this project; long.js is not used.
$protobuf.util.Long = null;
$protobuf.configure();

$OUTPUT;

export {
  $DEFAULT_EXPORT$root as default
};
`;

async function mtime(path) {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function upToDate() {
  const inputTimes = await Promise.all(inputs.map(mtime));
  const outputTimes = await Promise.all(outputs.map(mtime));
  if (outputTimes.some((t) => t === undefined)) return false;
  return Math.min(...outputTimes) > Math.max(...inputTimes.map((t) => t ?? Infinity));
}

// Runs a protobufjs-cli entry point in-process; both report errors through the callback.
function run(cli, args) {
  return new Promise((resolvePromise, reject) => {
    cli.main(args, (err, output) => (err ? reject(err) : resolvePromise(output)));
  });
}

async function generate() {
  const require = createRequire(import.meta.url);
  const { pbjs, pbts } = require('protobufjs-cli');
  await mkdir(outDir, { recursive: true });
  // A scratch directory beside the outputs, so that moving them into place is a rename.
  const work = await mkdtemp(join(outDir, '.tmp-'));
  try {
    const wrapperPath = join(work, 'wrapper.js');
    await writeFile(wrapperPath, wrapper);
    const common = ['--keep-case', '-p', protoDir];
    const js = join(work, 'mesos.js');
    await run(pbjs, [
      '-t', 'static-module', '-w', wrapperPath, '--es6',
      // An explicit extension: Node's ESM resolver does not add one, tsx and esbuild don't mind.
      '--dependency', 'protobufjs/minimal.js',
      // Numbers for 64-bit fields in the types too; no verify/delimited/typeurl code, which the
      // codec does not use and the executor bundle would carry.
      '--force-number', '--no-verify', '--no-delimited', '--no-typeurl', ...common, '-o', js, ...protos,
    ]);
    await run(pbts, ['-o', join(work, 'mesos.d.ts'), js]);
    await run(pbjs, ['-t', 'json', ...common, '-o', join(work, 'descriptor.json'), ...protos]);

    for (const path of outputs) await rename(join(work, basename(path)), path);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--force') || !(await upToDate())) {
  await generate();
  console.log(`gen-proto: wrote ${outputs.map((p) => p.slice(root.length + 1)).join(', ')}`);
}
