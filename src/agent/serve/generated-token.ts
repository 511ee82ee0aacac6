// The token serve makes for itself when the operator gives none, so that no host-network task can
// reach the API (and run a privileged container) just by being on 127.0.0.1. It lives in the
// agent's 0700 checkpoint directory, written 0600 through the private-file helpers (a fresh file
// created exclusively, renamed into place; read back without following links), and a restarted
// agent reuses it so that open consoles and scripts keep working.
import { randomBytes } from 'node:crypto';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../config/config-error.js';
import { readPrivateFile, writePrivateFile } from '../../state/private-file.js';
import { prepareCheckpointDirectory } from './serve-checkpoint.js';

const FILE = 'token';

export function generatedToken(workDir: string, uid = process.getuid?.() ?? 0): { token: string; path: string } {
  const directory = prepareCheckpointDirectory(workDir, uid);
  const path = join(directory, FILE);
  const existing = readPrivateFile(directory, FILE, 1024);
  if (existing !== undefined) {
    const stats = lstatSync(path);
    if (stats.uid !== uid || (stats.mode & 0o077) !== 0) {
      throw new ConfigError(`${path} has mode ${(stats.mode & 0o777).toString(8)} and uid ${stats.uid}: the token file must be this agent's and 0600; remove it to get a new one`);
    }
    const token = existing.toString('utf8').trim();
    if (/^[0-9a-f]{64}$/.test(token)) return { token, path };
  }
  const token = randomBytes(32).toString('hex');
  writePrivateFile(directory, FILE, `${token}\n`);
  return { token, path };
}
