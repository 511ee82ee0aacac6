// Image pulls against the real Docker engine and the private registry that
// scripts/setup-registry.sh runs on a loopback port (test/helpers/registry.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerRuntime } from '../../src/docker/docker-runtime.js';
import { ensureImage, ImagePullError, type EnsureImageOptions } from '../../src/docker/image-pull.js';
import { parseImageReference } from '../../src/docker/image-reference.js';
import { loadRegistryAuth, type RegistryAuth } from '../../src/docker/registry-auth.js';
import { removeImage } from '../helpers/harness.js';
import { REGISTRY, REGISTRY_PATTERN } from '../helpers/registry.js';

const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const BUSYBOX = `${REGISTRY}/private/busybox:1`;
const LAYERS = `${REGISTRY}/private/layers:1`;
const PASSWORD = 'testpassword';

const docker = new DockerRuntime(SOCKET);
const scratch = mkdtempSync(join(tmpdir(), 'image-pull-'));

before(async () => {
  const answer = await fetch(`http://${REGISTRY}/v2/`).catch(() => undefined);
  assert.equal(answer?.status, 401, `no password-protected registry on ${REGISTRY}: run scripts/setup-registry.sh`);
});

after(() => {
  docker.close();
  rmSync(scratch, { recursive: true, force: true });
});

// Credentials as a task would bring them: a .docker/config.json in its sandbox.
function sandboxAuth(image: string, password: string): RegistryAuth {
  const sandbox = mkdtempSync(join(scratch, 'sandbox-'));
  mkdirSync(join(sandbox, '.docker'));
  const auth = Buffer.from(`testuser:${password}`).toString('base64');
  writeFileSync(join(sandbox, '.docker', 'config.json'), JSON.stringify({ auths: { [`http://${REGISTRY}/v2/`]: { auth } } }));
  const found = loadRegistryAuth(parseImageReference(image), { sandboxDirectory: sandbox, dockerConfig: undefined });
  assert.ok(found);
  return found;
}

function options(overrides: Partial<EnsureImageOptions> = {}): EnsureImageOptions & { messages: string[] } {
  const messages: string[] = [];
  return { forcePull: false, auth: undefined, onProgress: (message) => messages.push(message), messages, ...overrides };
}

function present(image: string): Promise<boolean> {
  return docker.hasImage(image);
}

async function pullFailure(image: string, opts: EnsureImageOptions): Promise<ImagePullError> {
  const error = await ensureImage(docker, image, opts).then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof ImagePullError, `expected an ImagePullError, got ${String(error)}`);
  assert.equal(error.image, image);
  assert.ok(error.message.startsWith(`Failed to pull image '${image}': `) || error.kind === 'cancelled', error.message);
  return error;
}

// A port on 127.0.0.1 that nothing listens on.
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a pull with the sandbox credentials brings the image, announced in progress messages', { timeout: 60_000 }, async () => {
  await removeImage(BUSYBOX);
  assert.equal(await present(BUSYBOX), false);
  const opts = options({ auth: sandboxAuth(BUSYBOX, PASSWORD) });
  assert.deepEqual(await ensureImage(docker, BUSYBOX, opts), { pulled: true });
  assert.equal(await present(BUSYBOX), true);
  assert.equal(opts.messages[0], `Pulling image '${BUSYBOX}'`);
});

test('a present image is not pulled again, and says nothing', { timeout: 60_000 }, async () => {
  await ensureImage(docker, BUSYBOX, options({ auth: sandboxAuth(BUSYBOX, PASSWORD) }));
  // No credentials: a pull would fail, so success proves no pull was made.
  const opts = options();
  assert.deepEqual(await ensureImage(docker, BUSYBOX, opts), { pulled: false });
  assert.deepEqual(opts.messages, []);
});

test('forcePull pulls a present image again', { timeout: 60_000 }, async () => {
  await ensureImage(docker, BUSYBOX, options({ auth: sandboxAuth(BUSYBOX, PASSWORD) }));
  assert.equal(await present(BUSYBOX), true);
  // Proof that it goes to the registry: without credentials the forced pull fails.
  const unauthenticated = await pullFailure(BUSYBOX, options({ forcePull: true }));
  assert.equal(unauthenticated.kind, 'authentication');
  const opts = options({ forcePull: true, auth: sandboxAuth(BUSYBOX, PASSWORD) });
  assert.deepEqual(await ensureImage(docker, BUSYBOX, opts), { pulled: true });
  assert.ok(opts.messages.length >= 1);
});

test('without credentials the pull fails as an authentication failure', { timeout: 60_000 }, async () => {
  await removeImage(BUSYBOX);
  const error = await pullFailure(BUSYBOX, options());
  assert.equal(error.kind, 'authentication');
  assert.equal(error.code, 'ERR_IMAGE_PULL_AUTHENTICATION');
  assert.match(error.message, new RegExp(`the registry requires credentials and none were given for ${REGISTRY_PATTERN}`));
  assert.match(error.daemonMessage ?? '', /no basic auth credentials/);
  assert.equal(await present(BUSYBOX), false);
});

test('a wrong password fails as an authentication failure naming the source, not the password', { timeout: 60_000 }, async () => {
  await removeImage(BUSYBOX);
  const wrong = 'Wr0ngPassw0rdXyz';
  const error = await pullFailure(BUSYBOX, options({ auth: sandboxAuth(BUSYBOX, wrong) }));
  assert.equal(error.kind, 'authentication');
  assert.match(error.message, new RegExp(`authentication failed with the credentials for ${REGISTRY_PATTERN} from sandbox \\.docker/config\\.json \\(the registry said: unauthorized: authentication required\\)`));
  assert.ok(!error.message.includes(wrong));
});

test('a missing tag or repository fails as not found', { timeout: 60_000 }, async () => {
  const auth = sandboxAuth(BUSYBOX, PASSWORD);
  for (const image of [`${REGISTRY}/private/busybox:no-such-tag`, `${REGISTRY}/private/no-such-repository:1`]) {
    const error = await pullFailure(image, options({ auth }));
    assert.equal(error.kind, 'not-found', error.message);
    assert.match(error.message, /the registry has no such image \(repository or tag\) \(the registry said: manifest for .* not found: manifest unknown/);
  }
});

test('a registry that is down fails as a network failure', { timeout: 60_000 }, async () => {
  const image = `127.0.0.1:${await closedPort()}/private/busybox:1`;
  const error = await pullFailure(image, options());
  assert.equal(error.kind, 'network', error.message);
  assert.match(error.message, /could not be reached .*connection refused/);
});

test('a registry that accepts but never answers is stopped by the inactivity timeout', { timeout: 60_000 }, async (t) => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const image = `127.0.0.1:${(server.address() as net.AddressInfo).port}/hung/image:1`;
  const started = performance.now();
  const error = await pullFailure(image, options({ inactivityTimeoutMs: 1500 }));
  const elapsed = performance.now() - started;
  assert.equal(error.kind, 'timeout', error.message);
  assert.match(error.message, /no progress for 1\.5 s, so the pull was stopped/);
  assert.ok(sockets.size >= 1, 'the daemon did reach the hung registry');
  // The daemon's own registry timeout is 15 s: this was ours.
  assert.ok(elapsed >= 1400 && elapsed < 8000, `stopped after ${elapsed} ms`);
});

test('progress messages come at most once per interval and count layers and megabytes', { timeout: 60_000 }, async () => {
  await removeImage(LAYERS);
  const interval = 40;
  const times: number[] = [];
  const opts = options({ auth: sandboxAuth(LAYERS, PASSWORD), progressIntervalMs: interval });
  const onProgress = opts.onProgress;
  assert.deepEqual(await ensureImage(docker, LAYERS, {
    ...opts,
    onProgress: (message) => {
      times.push(performance.now());
      onProgress(message);
    },
  }), { pulled: true });
  assert.ok(opts.messages.length >= 3, `only ${opts.messages.length} messages: ${opts.messages.join(' | ')}`);
  for (let i = 1; i < times.length; i += 1) {
    assert.ok(times[i]! - times[i - 1]! >= interval - 1, `messages ${i - 1} and ${i} came ${times[i]! - times[i - 1]!} ms apart`);
  }
  assert.equal(new Set(opts.messages).size, opts.messages.length, 'no message repeated');
  assert.ok(
    opts.messages.some((message) => new RegExp(`^Pulling image '${REGISTRY_PATTERN}/private/layers:1': \\d of 4 layers done, \\d+\\.\\d of 25\\.2 MB$`).test(message)),
    opts.messages.join('\n'),
  );
});

test('no process has the password on its command line while a pull runs', { timeout: 60_000 }, async () => {
  await removeImage(LAYERS);
  const auth = sandboxAuth(LAYERS, PASSWORD);
  const needles = [PASSWORD, ...auth.secrets];
  let done = false;
  const pull = ensureImage(docker, LAYERS, options({ auth })).finally(() => {
    done = true;
  });
  let scans = 0;
  const leaks: string[] = [];
  while (!done) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`).catch(() => Buffer.alloc(0));
      const text = cmdline.toString('utf8');
      if (needles.some((needle) => text.includes(needle))) leaks.push(`${entry}: ${text.replace(/\0/g, ' ')}`);
    }
    if (!done) scans += 1;
  }
  assert.deepEqual(await pull, { pulled: true });
  assert.ok(scans >= 1, 'at least one scan of /proc finished while the pull ran');
  assert.deepEqual(leaks, []);
});

test('an abort stops the pull, and the daemon does not finish it', { timeout: 60_000 }, async () => {
  await removeImage(LAYERS);
  const controller = new AbortController();
  const opts = options({
    auth: sandboxAuth(LAYERS, PASSWORD),
    progressIntervalMs: 0,
    signal: controller.signal,
    onProgress: (message) => {
      if (/MB$/.test(message)) controller.abort();
    },
  });
  const error = await pullFailure(LAYERS, opts);
  assert.equal(error.kind, 'cancelled');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(await present(LAYERS), false);
});

test('a layer the registry lost fails the pull midway, from an error line in the stream', { timeout: 60_000 }, async () => {
  const image = `${REGISTRY}/private/broken:1`;
  await removeImage(image);
  const opts = options({ auth: sandboxAuth(image, PASSWORD), progressIntervalMs: 0 });
  const error = await pullFailure(image, opts);
  assert.equal(error.kind, 'not-found', error.message);
  assert.equal(error.message, `Failed to pull image '${image}': the registry is missing a layer of the image (the registry said: unknown blob)`);
  assert.ok(opts.messages.some((message) => /layers done/.test(message)), 'the stream had begun');
  assert.equal(await present(image), false);
});

test('an image named by digest is pulled by that digest', { timeout: 60_000 }, async () => {
  const auth = sandboxAuth(BUSYBOX, PASSWORD);
  await ensureImage(docker, BUSYBOX, options({ auth }));
  // The image's inspect is no verb (hasImage tells presence only): a raw call.
  const inspect = JSON.parse((await docker.call('GET', `/images/${encodeURIComponent(BUSYBOX)}/json`)).body.toString('utf8')) as { RepoDigests: string[] };
  const byDigest = inspect.RepoDigests.find((digest) => digest.startsWith(`${REGISTRY}/private/busybox@sha256:`));
  assert.ok(byDigest, JSON.stringify(inspect.RepoDigests));
  await removeImage(BUSYBOX);
  await removeImage(byDigest);
  assert.equal(await present(byDigest), false);
  assert.deepEqual(await ensureImage(docker, byDigest, options({ auth })), { pulled: true });
  assert.equal(await present(byDigest), true);
  assert.equal(await present(BUSYBOX), false, 'only the digest was pulled, not the tag');
});
