// The images the executor-container tests run: this project's executor image (built from dist/
// by scripts/build-executor-image.sh, a no-op when it is current) and a framework's executor
// image made from it, holding test/helpers/custom-executor.mjs. Both are built offline.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { DOCKER_SOCKET } from './harness.js';

export const EXECUTOR_IMAGE = process.env.EXECUTOR_IMAGE ?? 'mesos-docker-executor:local';
const ROOT = resolve(import.meta.dirname, '../..');
// Tagged by the script's content: test runs of other versions of it (other checkouts) on the
// same engine do not replace each other's image.
const SCRIPT = join(ROOT, 'test/helpers/custom-executor.mjs');
export const CUSTOM_EXECUTOR_IMAGE = `mesos-executor-test/custom-executor:${createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 12)}`;
let executorImage: Promise<string> | undefined;
let customImage: Promise<string> | undefined;

export function ensureExecutorImage(): Promise<string> {
  executorImage ??= execa('bash', ['scripts/build-executor-image.sh', EXECUTOR_IMAGE], {
    cwd: ROOT, env: { DOCKER_SOCKET }, stdout: 'ignore', stderr: 'inherit',
  }).then(() => EXECUTOR_IMAGE);
  return executorImage;
}

export function ensureCustomExecutorImage(): Promise<string> {
  customImage ??= ensureExecutorImage().then(async (base) => {
    const context = mkdtempSync(join(tmpdir(), 'custom-executor-image-'));
    try {
      copyFileSync(SCRIPT, join(context, 'executor.mjs'));
      writeFileSync(join(context, 'Dockerfile'), [
        `FROM ${base}`,
        'COPY executor.mjs /opt/custom-executor/executor.mjs',
        // The executor image holds this machine's Node at its own path.
        `ENTRYPOINT ${JSON.stringify([realpathSync(process.execPath), '/opt/custom-executor/executor.mjs'])}`,
        '',
      ].join('\n'));
      await execa('docker', ['-H', `unix://${DOCKER_SOCKET}`, 'build', '-q', '-t', CUSTOM_EXECUTOR_IMAGE, context], { stdout: 'ignore' });
      return CUSTOM_EXECUTOR_IMAGE;
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
  return customImage;
}
