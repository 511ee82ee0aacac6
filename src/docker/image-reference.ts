// Docker image references (distribution/reference grammar): validated before anything runs, so
// that no user-supplied string is mistaken for something else, and normalised for pulls.
import { InvalidTaskError } from './invalid-task-error.js';

export interface ImageReference {
  // The registry host ("docker.io" when the name has none).
  readonly registry: string;
  // The repository path without the registry, e.g. "library/busybox" or "team/app".
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
  // The name as given, without tag and digest.
  readonly name: string;
  // The reference as given.
  readonly original: string;
}

export const DOCKER_HUB = 'docker.io';
// The key Docker's own config files use for Docker Hub credentials.
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
const MAX_NAME_LENGTH = 255;

export function parseImageReference(text: string): ImageReference {
  const match = REFERENCE.exec(text);
  if (!match) {
    throw new InvalidTaskError(
      `container.docker.image '${text}' is not a valid image reference: expected [registry/]name[:tag][@digest], like busybox:1.36 or registry.example.com:5000/team/app:2`,
    );
  }
  let domain: string | undefined = match[1];
  let path = match[2]!;
  // "foo/bar": foo is a registry only if it looks like a host (has a dot or port, or is localhost).
  if (domain !== undefined && !/[.:]/.test(domain) && domain !== 'localhost' && !/[A-Z]/.test(domain)) {
    path = `${domain}/${path}`;
    domain = undefined;
  }
  const nameLength = (domain ? domain.length + 1 : 0) + path.length;
  if (nameLength > MAX_NAME_LENGTH) {
    throw new InvalidTaskError(`container.docker.image '${text}' is too long: a repository name has at most ${MAX_NAME_LENGTH} characters`);
  }
  const registry = domain ?? DOCKER_HUB;
  const repository = registry === DOCKER_HUB && !path.includes('/') ? `library/${path}` : path;
  const name = match[1] !== undefined ? `${match[1]}/${match[2]!}` : match[2]!;
  return { registry, repository, tag: match[3], digest: match[4], name, original: text };
}

// What to pull: the name with its tag (":latest" when it has none) or its digest. Pulling a
// bare name through the Engine API would fetch every tag of the repository.
export function pullName(reference: ImageReference): { fromImage: string; tag: string } {
  if (reference.digest) return { fromImage: reference.name, tag: reference.digest };
  return { fromImage: reference.name, tag: reference.tag ?? 'latest' };
}

// The key under which Docker config files hold credentials for this reference's registry.
export function registryAuthKey(reference: ImageReference): string {
  return reference.registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : reference.registry;
}
