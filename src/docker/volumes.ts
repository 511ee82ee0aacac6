// ContainerInfo.volumes (spec 3.6.5) and the `volume` parameter as HostConfig.Binds.
//
// Binds ("source:target:mode" strings), not HostConfig.Mounts: Binds keep what `docker run -v`
// does for the stock executor — a missing host directory is created, and a source that is not a
// path names a volume created with the task's VolumeDriver — while Mounts cannot create a
// missing bind source on Engine API 1.41. The price of a string format is paid here: no path or
// name may hold ':' or NUL, a relative path may not climb out of the directory it is relative
// to, and the mode suffix is always ours.
import { posix } from 'node:path';
import { mesos } from '../proto/generated/mesos.js';
import { InvalidTaskError } from './invalid-task-error.js';

export interface VolumeSettings {
  readonly binds: string[];
  readonly volumeDriver: string | undefined;
}

const { RW, RO } = mesos.v1.Volume.Mode;
// A volume name must not look like a path (that would make it a bind of a host directory).
const VOLUME_NAME = /^[A-Za-z0-9][^:\0]*$/;

export function containerVolumes(
  container: mesos.v1.IContainerInfo,
  sandboxDirectory: string,
  mappedDirectory: string,
): VolumeSettings {
  const binds: string[] = [];
  // The deprecated DockerInfo.volume_driver; empty (the decoded default) is none.
  const legacyDriver = container.docker?.volume_driver || undefined;
  let driver: string | undefined;

  (container.volumes ?? []).forEach((volume, index) => {
    const field = `container.volumes[${index}]`;
    const containerPath = volume.container_path ?? '';
    if (containerPath === '') throw new InvalidTaskError(`${field}.container_path is missing: expected a path inside the container`);
    checkCharacters(`${field}.container_path`, containerPath);
    const target = containerPath.startsWith('/')
      ? containerTarget(`${field}.container_path`, containerPath)
      : within(`${field}.container_path`, containerPath, mappedDirectory, 'the mapped sandbox directory');

    let source: string;
    if (present(volume, 'host_path')) {
      const hostPath = volume.host_path!;
      if (hostPath === '') throw new InvalidTaskError(`${field}.host_path is empty: expected an absolute path, or a path relative to the sandbox`);
      checkCharacters(`${field}.host_path`, hostPath);
      if (!hostPath.startsWith('/') && !containerPath.startsWith('/')) {
        throw new InvalidTaskError(
          `${field}: Both host_path '${hostPath}' and container_path '${containerPath}' of a volume are relative: one of them must be absolute`,
        );
      }
      if (hostPath.startsWith('/')) source = absolutePath(`${field}.host_path`, hostPath);
      // With a volume driver a relative host_path is a volume name, as `docker run -v` reads it.
      else if (legacyDriver !== undefined) source = volumeName(`${field}.host_path`, hostPath);
      else source = within(`${field}.host_path`, hostPath, sandboxDirectory, 'the sandbox', true);
    } else if (present(volume, 'source')) {
      const volumeSource = volume.source!;
      // Only Docker volumes mean anything to Docker; other sources are skipped, as upstream does.
      if (volumeSource.type !== mesos.v1.Volume.Source.Type.DOCKER_VOLUME) return;
      const dockerVolume = volumeSource.docker_volume;
      if (!dockerVolume) throw new InvalidTaskError(`${field}.source is DOCKER_VOLUME but source.docker_volume is missing`);
      source = volumeName(`${field}.source.docker_volume.name`, dockerVolume.name ?? '');
      const volumeDriver = dockerVolume.driver ?? '';
      if (volumeDriver !== '') {
        checkDriver(`${field}.source.docker_volume.driver`, volumeDriver);
        if (driver !== undefined && driver !== volumeDriver) {
          throw new InvalidTaskError(
            `${field}.source.docker_volume.driver is '${volumeDriver}' but an earlier volume uses '${driver}': Only one volume driver is supported`,
          );
        }
        driver = volumeDriver;
      }
    } else {
      throw new InvalidTaskError(`${field}: Host path or volume source is required: expected host_path or source.docker_volume`);
    }
    binds.push(`${source}:${target}:${mode(field, volume.mode)}`);
  });

  if (legacyDriver !== undefined) {
    checkDriver('container.docker.volume_driver', legacyDriver);
    if (driver !== undefined && driver !== legacyDriver) {
      throw new InvalidTaskError(
        `container.docker.volume_driver is '${legacyDriver}' but a volume uses driver '${driver}': Only one volume driver per task is supported`,
      );
    }
    driver = legacyDriver;
  }
  return { binds, volumeDriver: driver };
}

// The sandbox mapping, always the last bind; without a mode, like the stock `-v sandbox:mapped`.
export function sandboxBind(sandboxDirectory: string, mappedDirectory: string): string {
  checkCharacters('--sandbox_directory', sandboxDirectory);
  checkCharacters('--mapped_directory', mappedDirectory);
  if (!sandboxDirectory.startsWith('/')) throw new InvalidTaskError(`--sandbox_directory '${sandboxDirectory}' is not an absolute path`);
  if (!mappedDirectory.startsWith('/')) throw new InvalidTaskError(`--mapped_directory '${mappedDirectory}' is not an absolute path`);
  return `${sandboxDirectory}:${mappedDirectory}`;
}

const BIND_OPTIONS = new Set([
  'rw', 'ro', 'z', 'Z', 'nocopy', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'consistent', 'cached', 'delegated',
]);

export type VolumeParameter = { readonly bind: string } | { readonly anonymous: string };

// `volume=[source:]target[:options]` as `docker run -v` reads it: a target alone is an anonymous
// volume; a source is an absolute host path or a volume name.
export function volumeParameter(field: string, value: string): VolumeParameter {
  checkCharacters(field, value, false);
  const parts = value.split(':');
  if (parts.length === 1) return { anonymous: containerTarget(field, value) };
  if (parts.length > 3) {
    throw new InvalidTaskError(`${field} is '${value}': expected [source:]target[:options]; paths with ':' cannot be mounted`);
  }
  const [source = '', target = '', options] = parts;
  const bindSource = source.startsWith('/') ? absolutePath(field, source) : volumeName(field, source);
  const mountTarget = containerTarget(field, target);
  if (options !== undefined) {
    const list = options.split(',');
    const unknown = list.filter((option) => !BIND_OPTIONS.has(option));
    if (options === '' || unknown.length > 0) {
      throw new InvalidTaskError(`${field} is '${value}': unknown mount option '${unknown[0] ?? ''}', expected some of ${[...BIND_OPTIONS].join(', ')}`);
    }
    if (list.includes('ro') && list.includes('rw')) throw new InvalidTaskError(`${field} is '${value}': ro and rw exclude each other`);
  }
  return { bind: options === undefined ? `${bindSource}:${mountTarget}` : `${bindSource}:${mountTarget}:${options}` };
}

// The container side of a bind string (its second field; no field holds ':').
export function bindTarget(bind: string): string {
  return bind.split(':')[1] ?? '';
}

// An absolute path, normalised as Docker cleans it.
export function absolutePath(field: string, path: string): string {
  checkCharacters(field, path);
  if (!path.startsWith('/')) throw new InvalidTaskError(`${field} is '${path}': expected an absolute path`);
  return withoutTrailingSlash(posix.normalize(path));
}

// A mount point inside the container: absolute, and not the root Docker refuses to mount over.
export function containerTarget(field: string, path: string): string {
  const target = absolutePath(field, path);
  if (target === '/') throw new InvalidTaskError(`${field} is '${path}': nothing can be mounted over the container's root directory`);
  return target;
}

function within(field: string, relative: string, base: string, what: string, allowBase = false): string {
  const root = withoutTrailingSlash(posix.normalize(base));
  const joined = withoutTrailingSlash(posix.join(root, relative));
  if (!(joined.startsWith(`${root}/`) || (allowBase && joined === root))) {
    throw new InvalidTaskError(`${field} '${relative}' leads out of ${what} (${root}): a relative path must stay inside it`);
  }
  return joined;
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function volumeName(field: string, name: string): string {
  if (!VOLUME_NAME.test(name)) {
    throw new InvalidTaskError(`${field} is '${name}': expected a volume name (a letter or digit first, no ':'), or an absolute host path`);
  }
  return name;
}

function checkDriver(field: string, driver: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/.test(driver)) {
    throw new InvalidTaskError(`${field} is '${driver}': expected a volume driver name like local or rexray`);
  }
}

function checkCharacters(field: string, text: string, colon = true): void {
  if (text.includes('\0')) throw new InvalidTaskError(`${field} '${text.replaceAll('\0', '\\0')}' contains a NUL byte`);
  if (colon && text.includes(':')) {
    throw new InvalidTaskError(`${field} '${text}' contains ':': Docker binds are source:target:mode, so a path with ':' cannot be mounted`);
  }
}

function mode(field: string, value: number | null | undefined): 'rw' | 'ro' {
  const volumeMode = value ?? RW;
  if (volumeMode === RW) return 'rw';
  if (volumeMode === RO) return 'ro';
  throw new InvalidTaskError(`${field}.mode is ${volumeMode}: Unsupported volume mode, expected RW or RO`);
}

// Presence as proto2 means it: an own field that is set (decoded messages keep defaults on the prototype).
function present(message: object | null | undefined, field: string): boolean {
  return message != null && Object.hasOwn(message, field) && (message as Record<string, unknown>)[field] != null;
}
