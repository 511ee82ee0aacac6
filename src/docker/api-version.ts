// Which Engine API version to speak with a daemon: the newest both sides know. The create body
// is typed for MAX_API_VERSION; a newer daemon is asked for that version, so it reads the body
// as it was written, and an older one below MIN_API_VERSION is refused rather than left to
// ignore fields it does not know.
import { DockerError } from './docker-error.js';

// The version the create request (create-request.ts) is typed for: Docker 20.10.
export const MAX_API_VERSION = '1.41';
// Docker 19.03: the oldest daemon this executor speaks to.
export const MIN_API_VERSION = '1.40';

// The version to put in every path, from the daemon's `ApiVersion` (GET /version).
export function negotiateApiVersion(daemonApiVersion: unknown): string {
  if (typeof daemonApiVersion !== 'string' || parseVersion(daemonApiVersion) === undefined) {
    throw new DockerError(`The Docker daemon reported API version ${JSON.stringify(daemonApiVersion)}; expected a version such as "${MAX_API_VERSION}"`);
  }
  if (compareVersions(daemonApiVersion, MIN_API_VERSION) < 0) {
    throw new DockerError(`The Docker daemon speaks API ${daemonApiVersion}, older than ${MIN_API_VERSION} (Docker 19.03), the oldest this executor supports: upgrade Docker`);
  }
  return compareVersions(daemonApiVersion, MAX_API_VERSION) < 0 ? daemonApiVersion : MAX_API_VERSION;
}

// Orders "major.minor" versions numerically (1.9 < 1.10).
export function compareVersions(a: string, b: string): number {
  const [aMajor, aMinor] = parseVersion(a) ?? [0, 0];
  const [bMajor, bMinor] = parseVersion(b) ?? [0, 0];
  return aMajor !== bMajor ? aMajor - bMajor : aMinor - bMinor;
}

function parseVersion(text: string): [number, number] | undefined {
  const match = /^(\d{1,4})\.(\d{1,4})$/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}
