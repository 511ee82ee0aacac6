import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseImageReference } from '../../src/docker/image-reference.js';
import { configKeyHost, encodeAuthHeader, loadRegistryAuth, RegistryAuthError } from '../../src/docker/registry-auth.js';
import { errorMessage, redact } from '../../src/log.js';

const PRIVATE = parseImageReference('127.0.0.1:5000/private/busybox:1');
const HUB = parseImageReference('busybox');
const PASSWORD = 'pa55+word/with?odd=chars';

function basic(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`).toString('base64');
}

// Decodes an X-Registry-Auth value the way the daemon does: base64url with padding.
function decodeHeader(header: string): Record<string, string> {
  assert.match(header, /^[A-Za-z0-9_-]*={0,2}$/, 'base64url alphabet');
  assert.equal(header.length % 4, 0, 'padded');
  return JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as Record<string, string>;
}

function sandbox(t: { after: (fn: () => void) => void }, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'registry-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const configJson = (registries: Record<string, unknown>): string => JSON.stringify({ auths: registries });

test('a sandbox .docker/config.json with an auth blob gives username, password and the registry', (t) => {
  const dir = sandbox(t, { '.docker/config.json': configJson({ '127.0.0.1:5000': { auth: basic('alice', PASSWORD) } }) });
  const auth = loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: undefined })!;
  assert.deepEqual(decodeHeader(auth.header), { username: 'alice', password: PASSWORD, serveraddress: '127.0.0.1:5000' });
  assert.equal(auth.source, 'sandbox .docker/config.json');
});

test('a sandbox legacy .dockercfg works', (t) => {
  const dir = sandbox(t, { '.dockercfg': JSON.stringify({ 'https://127.0.0.1:5000': { auth: basic('bob', PASSWORD), email: 'b@example.com' } }) });
  const auth = loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: undefined })!;
  assert.deepEqual(decodeHeader(auth.header), { username: 'bob', password: PASSWORD, serveraddress: '127.0.0.1:5000' });
  assert.equal(auth.source, 'sandbox .dockercfg');
});

test('in the sandbox, .docker/config.json wins over .dockercfg', (t) => {
  const dir = sandbox(t, {
    '.docker/config.json': configJson({ '127.0.0.1:5000': { auth: basic('from-config-json', PASSWORD) } }),
    '.dockercfg': JSON.stringify({ '127.0.0.1:5000': { auth: basic('from-dockercfg', PASSWORD) } }),
  });
  const auth = loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: undefined })!;
  assert.equal(decodeHeader(auth.header).username, 'from-config-json');
});

test('a sandbox config wins over --docker_config, whole, even without an entry for the registry', (t) => {
  const flagFile = join(sandbox(t), 'agent.json');
  writeFileSync(flagFile, configJson({ '127.0.0.1:5000': { auth: basic('agent', PASSWORD) } }));
  const withEntry = sandbox(t, { '.dockercfg': JSON.stringify({ '127.0.0.1:5000': { auth: basic('task', PASSWORD) } }) });
  assert.equal(decodeHeader(loadRegistryAuth(PRIVATE, { sandboxDirectory: withEntry, dockerConfig: flagFile })!.header).username, 'task');
  const otherRegistry = sandbox(t, { '.docker/config.json': configJson({ 'registry.example.com': { auth: basic('x', PASSWORD) } }) });
  assert.equal(loadRegistryAuth(PRIVATE, { sandboxDirectory: otherRegistry, dockerConfig: flagFile }), undefined);
  const empty = sandbox(t);
  assert.equal(decodeHeader(loadRegistryAuth(PRIVATE, { sandboxDirectory: empty, dockerConfig: flagFile })!.header).username, 'agent');
});

test('--docker_config as an absolute path, a file:// URI or inline JSON, in either format', (t) => {
  const dir = sandbox(t);
  const empty = sandbox(t);
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, configJson({ 'http://127.0.0.1:5000/v2/': { username: 'carol', password: PASSWORD } }));
  const legacyFile = join(dir, 'dockercfg');
  writeFileSync(legacyFile, JSON.stringify({ '127.0.0.1:5000': { auth: basic('dave', PASSWORD) } }));
  const cases: Array<[string, string, string]> = [
    [configFile, 'carol', `--docker_config file ${configFile}`],
    [`file://${legacyFile}`, 'dave', `--docker_config file ${legacyFile}`],
    [configJson({ '127.0.0.1:5000': { auth: basic('erin', PASSWORD) } }), 'erin', '--docker_config inline JSON'],
    [`  ${JSON.stringify({ '127.0.0.1:5000': { auth: basic('frank', PASSWORD) } })}\n`, 'frank', '--docker_config inline JSON'],
  ];
  for (const [dockerConfig, user, source] of cases) {
    const auth = loadRegistryAuth(PRIVATE, { sandboxDirectory: empty, dockerConfig });
    assert.ok(auth, dockerConfig);
    assert.equal(decodeHeader(auth.header).username, user);
    assert.equal(auth.source, source);
  }
});

test('no config anywhere, or an empty --docker_config, means no credentials', (t) => {
  const dir = sandbox(t);
  assert.equal(loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: undefined }), undefined);
  assert.equal(loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: '' }), undefined);
});

test('registry keys match by host[:port], whatever their scheme and path', (t) => {
  const dir = sandbox(t);
  const pick = (image: string, registries: Record<string, unknown>): string | undefined => {
    const auth = loadRegistryAuth(parseImageReference(image), { sandboxDirectory: dir, dockerConfig: configJson(registries) });
    return auth === undefined ? undefined : decodeHeader(auth.header).username;
  };
  const entry = (user: string): unknown => ({ auth: basic(user, PASSWORD) });
  assert.equal(pick('127.0.0.1:5000/a/b:1', { 'http://127.0.0.1:5000/v2/': entry('u') }), 'u');
  assert.equal(pick('127.0.0.1:5000/a/b:1', { 'https://127.0.0.1:5000': entry('u') }), 'u');
  assert.equal(pick('Registry.Example.com/a', { 'registry.example.com': entry('u') }), 'u');
  assert.equal(pick('127.0.0.1:5000/a/b:1', { '127.0.0.1:5001': entry('other-port'), '127.0.0.1': entry('no-port') }), undefined);
  assert.equal(pick('127.0.0.1:5000/a/b:1', { 'https://127.0.0.1:5000/v1/': entry('by-host'), '127.0.0.1:5000': entry('exact') }), 'exact');
  // Docker Hub: its key, written any of the ways Docker has written it.
  assert.equal(pick('busybox', { 'https://index.docker.io/v1/': entry('hub') }), 'hub');
  assert.equal(pick('team/app:2', { 'index.docker.io': entry('hub') }), 'hub');
  assert.equal(pick('docker.io/library/busybox', { 'https://registry-1.docker.io': entry('hub') }), 'hub');
  assert.equal(pick('busybox', { '127.0.0.1:5000': entry('u') }), undefined);
  assert.equal(pick('127.0.0.1:5000/a/b:1', { 'https://index.docker.io/v1/': entry('hub') }), undefined);
});

test('configKeyHost strips scheme and path', () => {
  assert.equal(configKeyHost('https://index.docker.io/v1/'), 'index.docker.io');
  assert.equal(configKeyHost('http://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
  assert.equal(configKeyHost('Registry.Example.com:443'), 'registry.example.com:443');
});

test('Docker Hub credentials carry Docker Hub\'s server address', (t) => {
  const dir = sandbox(t, { '.docker/config.json': configJson({ 'https://index.docker.io/v1/': { auth: basic('hubuser', PASSWORD) } }) });
  const auth = loadRegistryAuth(HUB, { sandboxDirectory: dir, dockerConfig: undefined })!;
  assert.deepEqual(decodeHeader(auth.header), { username: 'hubuser', password: PASSWORD, serveraddress: 'https://index.docker.io/v1/' });
});

test('an identity token is sent as a token, without username or password', (t) => {
  const dir = sandbox(t, { '.docker/config.json': configJson({ '127.0.0.1:5000': { auth: basic('<token>', ''), identitytoken: 'refresh-token-value' } }) });
  const auth = loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: undefined })!;
  assert.deepEqual(decodeHeader(auth.header), { identitytoken: 'refresh-token-value', serveraddress: '127.0.0.1:5000' });
  assert.ok(auth.secrets.includes('refresh-token-value'));
});

test('an entry without credentials (only an email, or a credential store placeholder) gives none', (t) => {
  const dir = sandbox(t);
  for (const entry of [{}, { email: 'x@example.com' }]) {
    assert.equal(loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: configJson({ '127.0.0.1:5000': entry }) }), undefined);
  }
  assert.equal(loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: JSON.stringify({ auths: {}, credsStore: 'desktop' }) }), undefined);
});

test('every secret is registered for redaction before the credentials are returned', (t) => {
  const password = 'registered-secret-42';
  const blob = basic('grace', password);
  const dir = sandbox(t, { '.docker/config.json': configJson({ '127.0.0.1:5000': { auth: blob } }) });
  assert.equal(redact(`x ${password} x`), `x ${password} x`, 'not registered before');
  const auth = loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: undefined })!;
  assert.ok(auth.secrets.includes(password));
  assert.ok(auth.secrets.includes(blob));
  assert.ok(auth.secrets.includes(auth.header));
  assert.equal(redact(`password ${password}, blob ${blob}, header ${auth.header}`), 'password ***, blob ***, header ***');
});

test('the header is padded base64url, which the daemon requires', () => {
  // 2 bytes past a multiple of 3, and bytes that standard base64 writes as + and /.
  const header = encodeAuthHeader({ username: 'u', password: '>>>???~' });
  assert.ok(header.endsWith('='));
  assert.doesNotMatch(header, /[+/]/);
  assert.deepEqual(decodeHeader(header), { username: 'u', password: '>>>???~' });
});

function assertAuthError(fn: () => unknown, code: RegistryAuthError['code'], source: RegExp, secrets: string[]): RegistryAuthError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof RegistryAuthError, `expected a RegistryAuthError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.match(caught.message, source);
  const everything = `${errorMessage(caught)} ${caught.stack ?? ''} ${JSON.stringify(caught)}`;
  for (const secret of secrets) {
    // Any 5 characters of it in a row count: parsers like to quote a few around a fault.
    for (let i = 0; i + 5 <= secret.length; i += 1) {
      const piece = secret.slice(i, i + 5);
      assert.ok(!everything.includes(piece), `error text contains '${piece}' of a secret: ${everything}`);
    }
  }
  return caught;
}

test('invalid JSON is an error naming the source, and never quoting the text', (t) => {
  const secret = 'Zq9xWv7Kp3Hj';
  const dir = sandbox(t, { '.docker/config.json': `{"auths": {"127.0.0.1:5000": {"username": "u", "password": ${secret}}}}` });
  const error = assertAuthError(
    () => loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: undefined }),
    'ERR_REGISTRY_AUTH_INVALID', /sandbox \.docker\/config\.json: it is not valid JSON/, [secret],
  );
  assert.match(error.message, /expected a JSON object like \{"auths"/);
  assertAuthError(
    () => loadRegistryAuth(PRIVATE, { sandboxDirectory: sandbox(t), dockerConfig: `{"127.0.0.1:5000": {"auth": "${secret}"` }),
    'ERR_REGISTRY_AUTH_INVALID', /--docker_config inline JSON: it is not valid JSON/, [secret],
  );
});

test('malformed entries are errors naming the registry and the source, without the secret', (t) => {
  const secret = 'Qm4!Rt8#Yx2$';
  const cases: Array<[unknown, RegExp, string[]]> = [
    [{ auth: secret }, /'127\.0\.0\.1:5000' in --docker_config inline JSON: "auth" is not the base64 of user:password/, [secret]],
    [{ auth: Buffer.from('Np5Gc7Lk2Wd').toString('base64') }, /"auth" is not the base64/, ['Np5Gc7Lk2Wd', Buffer.from('Np5Gc7Lk2Wd').toString('base64')]],
    [{ username: 'u', password: 73915428 }, /"password" is not a string/, ['73915428']],
    [{ password: 'Vb3Hs9Qz1Xe' }, /has a "password" but no "username"/, ['Vb3Hs9Qz1Xe']],
    ['Tk6Jm2Pw8Rn', /the entry is not a JSON object/, ['Tk6Jm2Pw8Rn']],
  ];
  for (const [entry, message, secrets] of cases) {
    assertAuthError(
      () => loadRegistryAuth(PRIVATE, { sandboxDirectory: sandbox(t), dockerConfig: configJson({ '127.0.0.1:5000': entry }) }),
      'ERR_REGISTRY_AUTH_INVALID', message, secrets,
    );
  }
  assertAuthError(
    () => loadRegistryAuth(PRIVATE, { sandboxDirectory: sandbox(t), dockerConfig: JSON.stringify({ auths: ['x'] }) }),
    'ERR_REGISTRY_AUTH_INVALID', /"auths" is not a JSON object/, [],
  );
  assertAuthError(
    () => loadRegistryAuth(PRIVATE, { sandboxDirectory: sandbox(t), dockerConfig: '[1]' }),
    'ERR_REGISTRY_AUTH_INVALID', /not valid JSON|--docker_config/, [],
  );
});

test('an unreadable or misplaced config is an error naming where it was looked for', (t) => {
  const dir = sandbox(t);
  assertAuthError(
    () => loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: join(dir, 'missing.json') }),
    'ERR_REGISTRY_AUTH_UNREADABLE', new RegExp(`--docker_config file ${join(dir, 'missing.json')} \\(ENOENT\\)`), [],
  );
  assertAuthError(
    () => loadRegistryAuth(PRIVATE, { sandboxDirectory: dir, dockerConfig: 'relative/config.json' }),
    'ERR_REGISTRY_AUTH_INVALID', /expected an absolute path, a file:\/\/ URI of one, or a JSON object/, [],
  );
  const withDirectory = sandbox(t);
  mkdirSync(join(withDirectory, '.docker', 'config.json'), { recursive: true });
  assertAuthError(
    () => loadRegistryAuth(PRIVATE, { sandboxDirectory: withDirectory, dockerConfig: undefined }),
    'ERR_REGISTRY_AUTH_UNREADABLE', /sandbox \.docker\/config\.json is not a regular file \(a directory\)/, [],
  );
});
