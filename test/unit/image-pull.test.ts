import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyPullFailure, ensureImage, ImagePullError, inspectName, parseEvent, ProgressThrottle, PullProgress, pullFailureMessage,
  type ImagePullFailureKind,
} from '../../src/docker/image-pull.js';
import { parseImageReference } from '../../src/docker/image-reference.js';
import { DockerError } from '../../src/docker/docker-error.js';
import type { ContainerRuntime } from '../../src/docker/container-runtime.js';

test('the name inspected is the image as given, with :latest when it has neither tag nor digest', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const cases: Array<[string, string]> = [
    ['busybox', 'busybox:latest'],
    ['busybox:1.36', 'busybox:1.36'],
    ['127.0.0.1:5000/private/busybox', '127.0.0.1:5000/private/busybox:latest'],
    ['127.0.0.1:5000/private/busybox:1', '127.0.0.1:5000/private/busybox:1'],
    [`busybox@${digest}`, `busybox@${digest}`],
  ];
  for (const [image, name] of cases) assert.equal(inspectName(parseImageReference(image)), name, image);
});

test('stream lines parse into layer events and error lines', () => {
  assert.deepEqual(parseEvent('{"status":"Pulling from private/layers","id":"1"}\r'), { status: 'Pulling from private/layers' });
  assert.deepEqual(
    parseEvent('{"status":"Downloading","progressDetail":{"current":98304,"total":8391320},"progress":"[>   ]  98.3kB/8.391MB","id":"b572da5e4bba"}'),
    { status: 'Downloading', id: 'b572da5e4bba', current: 98304, total: 8391320 },
  );
  assert.deepEqual(
    parseEvent('{"errorDetail":{"message":"unknown blob"},"error":"unknown blob"}'),
    { error: 'unknown blob' },
  );
  assert.deepEqual(parseEvent('{"error":"only the short form"}'), { error: 'only the short form' });
  assert.equal(parseEvent(''), undefined);
  assert.equal(parseEvent('not json'), undefined);
  assert.equal(parseEvent('42'), undefined);
});

// A real pull of 127.0.0.1:5000/private/layers:1 (one layer present, three of 8.4 MB), as the
// daemon streamed it, progress bars cut.
const REAL_PULL = [
  '{"status":"Pulling from private/layers","id":"1"}',
  '{"status":"Already exists","progressDetail":{},"id":"b41c9cbd18a3"}',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"f1ccec0ee7f4"}',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"f12624d3e56e"}',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"b572da5e4bba"}',
  '{"status":"Downloading","progressDetail":{"current":98304,"total":8391320},"id":"b572da5e4bba"}',
  '{"status":"Downloading","progressDetail":{"current":98304,"total":8391320},"id":"f1ccec0ee7f4"}',
  '{"status":"Downloading","progressDetail":{"current":98304,"total":8391322},"id":"f12624d3e56e"}',
  '{"status":"Verifying Checksum","progressDetail":{},"id":"b572da5e4bba"}',
  '{"status":"Download complete","progressDetail":{},"id":"b572da5e4bba"}',
  '{"status":"Verifying Checksum","progressDetail":{},"id":"f1ccec0ee7f4"}',
  '{"status":"Download complete","progressDetail":{},"id":"f1ccec0ee7f4"}',
  '{"status":"Verifying Checksum","progressDetail":{},"id":"f12624d3e56e"}',
  '{"status":"Download complete","progressDetail":{},"id":"f12624d3e56e"}',
  '{"status":"Extracting","progressDetail":{"current":98304,"total":8391320},"id":"f1ccec0ee7f4"}',
  '{"status":"Extracting","progressDetail":{"current":8391320,"total":8391320},"id":"f1ccec0ee7f4"}',
  '{"status":"Pull complete","progressDetail":{},"id":"f1ccec0ee7f4"}',
  '{"status":"Extracting","progressDetail":{"current":98304,"total":8391322},"id":"f12624d3e56e"}',
  '{"status":"Extracting","progressDetail":{"current":8391322,"total":8391322},"id":"f12624d3e56e"}',
  '{"status":"Pull complete","progressDetail":{},"id":"f12624d3e56e"}',
  '{"status":"Extracting","progressDetail":{"current":98304,"total":8391320},"id":"b572da5e4bba"}',
  '{"status":"Extracting","progressDetail":{"current":8391320,"total":8391320},"id":"b572da5e4bba"}',
  '{"status":"Pull complete","progressDetail":{},"id":"b572da5e4bba"}',
  '{"status":"Digest: sha256:a3065bb80bbfe8e196271ccc5c7e8bef74ab926d1395ddf8675e9d28d01c5060"}',
  '{"status":"Status: Downloaded newer image for 127.0.0.1:5000/private/layers:1"}',
];

test('the progress summary counts layers done and megabytes downloaded', () => {
  const image = '127.0.0.1:5000/private/layers:1';
  const progress = new PullProgress(image);
  let next = 0;
  const after = (lines: number): string => {
    for (const line of REAL_PULL.slice(next, next + lines)) progress.apply(parseEvent(line)!);
    next += lines;
    return progress.summary();
  };
  assert.equal(progress.summary(), `Pulling image '${image}'`);
  assert.equal(after(1), `Pulling image '${image}'`, 'the "Pulling from" line names the tag, not a layer');
  assert.equal(after(4), `Pulling image '${image}': 1 of 4 layers done`);
  assert.equal(after(1), `Pulling image '${image}': 1 of 4 layers done, 0.1 of 8.4 MB`);
  assert.equal(after(2), `Pulling image '${image}': 1 of 4 layers done, 0.3 of 25.2 MB`);
  assert.equal(after(2), `Pulling image '${image}': 1 of 4 layers done, 8.6 of 25.2 MB`);
  assert.equal(after(7), `Pulling image '${image}': 2 of 4 layers done, 25.2 of 25.2 MB`);
  assert.equal(after(REAL_PULL.length), `Pulling image '${image}': 4 of 4 layers done, 25.2 of 25.2 MB`);
});

test('a layer first sized while extracting still counts its bytes', () => {
  const progress = new PullProgress('x:1');
  progress.apply({ status: 'Pulling fs layer', id: 'a' });
  progress.apply({ status: 'Download complete', id: 'a' });
  progress.apply({ status: 'Extracting', id: 'a', current: 500, total: 2_000_000 });
  assert.equal(progress.summary(), "Pulling image 'x:1': 0 of 1 layer done, 2.0 of 2.0 MB");
});

test('progress messages are rate limited and never repeated', () => {
  let now = 0;
  const sent: Array<[number, string]> = [];
  const throttle = new ProgressThrottle(2000, (message) => sent.push([now, message]), () => now);
  throttle.offer('a');
  now = 100;
  throttle.offer('b');
  now = 1999;
  throttle.offer('c');
  now = 2000;
  throttle.offer('d');
  now = 2500;
  throttle.offer('e');
  now = 9000;
  throttle.offer('e');
  throttle.offer('e');
  now = 9500;
  throttle.offer('f');
  assert.deepEqual(sent, [[0, 'a'], [2000, 'd'], [9000, 'e']]);
});

// Messages Docker 20.10.24 gave for pulls from distribution 2.8.2 on 127.0.0.1 (HTTP status of
// the create call, or undefined for an error line in the stream), and a few documented ones.
const OBSERVED: Array<[number | undefined, string, ImagePullFailureKind]> = [
  [500, 'Head "http://127.0.0.1:5000/v2/private/busybox/manifests/1": no basic auth credentials', 'authentication'],
  [500, 'unauthorized: authentication required', 'authentication'],
  [404, 'manifest for 127.0.0.1:5000/private/busybox:nope not found: manifest unknown: manifest unknown', 'not-found'],
  [404, 'manifest for 127.0.0.1:5000/private/nothere:1 not found: manifest unknown: manifest unknown', 'not-found'],
  [500, 'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused', 'network'],
  [500, 'Get "http://127.0.0.1:5003/v2/": net/http: request canceled (Client.Timeout exceeded while awaiting headers)', 'network'],
  [undefined, 'unknown blob', 'not-found'],
  [undefined, 'filesystem layer verification failed for digest sha256:aeb59a4fee96ff3c70b38c887e17cae674e93cb325b5c566bfee00a7465e9ed8', 'network'],
  // Documented, not reproducible offline:
  [404, "pull access denied for nosuch/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied", 'not-found'],
  [500, 'toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading', 'network'],
  [404, 'no matching manifest for linux/amd64 in the manifest list entries', 'not-found'],
  [500, 'Get "https://registry.example.com/v2/": dial tcp: lookup registry.example.com on 127.0.0.53:53: no such host', 'network'],
  [500, 'Get "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client', 'network'],
  [500, 'Get "https://registry.example.com/v2/": x509: certificate signed by unknown authority', 'network'],
  [undefined, 'write /var/lib/docker/tmp/GetImageBlob123: no space left on device', 'daemon'],
  [500, 'context canceled', 'daemon'],
];

test('failures are classified from the daemon\'s own messages', () => {
  for (const [status, message, kind] of OBSERVED) assert.equal(classifyPullFailure(status, message), kind, message);
});

test('words inside the image name or a quoted URL do not decide the kind', () => {
  const reference = parseImageReference('127.0.0.1:5000/unauthorized/denied:1');
  const message = 'manifest for 127.0.0.1:5000/unauthorized/denied:1 not found: manifest unknown: manifest unknown';
  assert.equal(classifyPullFailure(404, message, reference), 'not-found');
  assert.equal(classifyPullFailure(500, 'Get "http://refused.example/unauthorized/v2/": dial tcp: connection refused'), 'network');
});

test('failure messages name the image, say why in plain words, and quote Docker', () => {
  const base = { image: '127.0.0.1:5000/private/busybox:1', registry: '127.0.0.1:5000', inactivityMs: 120_000 };
  assert.equal(
    pullFailureMessage({ ...base, kind: 'authentication', daemonMessage: 'unauthorized: authentication required', auth: { source: 'sandbox .docker/config.json' } }),
    "Failed to pull image '127.0.0.1:5000/private/busybox:1': authentication failed with the credentials for 127.0.0.1:5000 from sandbox .docker/config.json (the registry said: unauthorized: authentication required)",
  );
  assert.equal(
    pullFailureMessage({ ...base, kind: 'authentication', daemonMessage: 'Head "http://127.0.0.1:5000/v2/private/busybox/manifests/1": no basic auth credentials', auth: undefined }),
    "Failed to pull image '127.0.0.1:5000/private/busybox:1': the registry requires credentials and none were given for 127.0.0.1:5000 (the registry said: Head \"http://127.0.0.1:5000/v2/private/busybox/manifests/1\": no basic auth credentials); give them in the sandbox's .docker/config.json or with the agent's --docker_config",
  );
  assert.equal(
    pullFailureMessage({ ...base, kind: 'not-found', daemonMessage: 'manifest for 127.0.0.1:5000/private/busybox:1 not found: manifest unknown: manifest unknown', auth: undefined }),
    "Failed to pull image '127.0.0.1:5000/private/busybox:1': the registry has no such image (repository or tag) (the registry said: manifest for 127.0.0.1:5000/private/busybox:1 not found: manifest unknown: manifest unknown)",
  );
  assert.match(
    pullFailureMessage({ ...base, kind: 'network', daemonMessage: 'dial tcp 127.0.0.1:5000: connect: connection refused', auth: undefined }),
    /^Failed to pull image '127\.0\.0\.1:5000\/private\/busybox:1': the registry 127\.0\.0\.1:5000 could not be reached or did not answer properly \(Docker said: dial tcp .*connection refused\)$/,
  );
  assert.equal(
    pullFailureMessage({ ...base, kind: 'timeout', daemonMessage: undefined, auth: undefined, inactivityMs: 1500 }),
    "Failed to pull image '127.0.0.1:5000/private/busybox:1': no progress for 1.5 s, so the pull was stopped",
  );
});

test('an ImagePullError carries a stable code per kind and says whether a retry may help', () => {
  const expected: Record<ImagePullFailureKind, [string, boolean]> = {
    'authentication': ['ERR_IMAGE_PULL_AUTHENTICATION', false],
    'not-found': ['ERR_IMAGE_NOT_FOUND', false],
    'network': ['ERR_IMAGE_PULL_NETWORK', true],
    'timeout': ['ERR_IMAGE_PULL_TIMEOUT', true],
    'daemon': ['ERR_IMAGE_PULL_DAEMON', false],
    'cancelled': ['ERR_IMAGE_PULL_CANCELLED', false],
  };
  for (const [kind, [code, transient]] of Object.entries(expected) as Array<[ImagePullFailureKind, [string, boolean]]>) {
    const error = new ImagePullError('m', { kind, image: 'x:1' });
    assert.equal(error.code, code);
    assert.equal(error.transient, transient, kind);
    assert.equal(error.image, 'x:1');
  }
});

// A runtime for ensureImage alone: the image is missing until a pull succeeds; each pull answers
// with the next of `outcomes` (an error message, or undefined for success).
function pullingRuntime(outcomes: Array<string | undefined>) {
  let present = false;
  let pulls = 0;
  const runtime = {
    timeoutMs: 1000,
    hasImage: async () => present,
    pull: async () => {
      const outcome = outcomes[pulls++];
      if (outcome !== undefined) throw new DockerError(outcome, { status: 200 });
      present = true;
    },
  } as unknown as ContainerRuntime;
  return { runtime, pulls: () => pulls };
}

test('a pull that ends with another client\'s cancel of a shared layer is tried again, a bounded number of times', async () => {
  const options = { forcePull: false, auth: undefined, onProgress: () => undefined, progressIntervalMs: 0 };
  const once = pullingRuntime(['The operation was aborted', undefined]);
  assert.deepEqual(await ensureImage(once.runtime, 'busybox:1', options), { pulled: true });
  assert.equal(once.pulls(), 2);

  const always = pullingRuntime(['context canceled', 'context canceled', 'context canceled', undefined]);
  await assert.rejects(ensureImage(always.runtime, 'busybox:1', options), (error: unknown) => error instanceof ImagePullError && error.kind === 'daemon');
  assert.equal(always.pulls(), 3);

  const other = pullingRuntime(['manifest unknown', undefined]);
  await assert.rejects(ensureImage(other.runtime, 'busybox:1', options), ImagePullError);
  assert.equal(other.pulls(), 1, 'any other failure is not retried');
});
