// Image references as Docker reads them: `nginx`, `nginx:1.27`, `docker.io/library/redis@sha256:…`,
// `127.0.0.1:5000/demo/web:1`. The grammar is distribution/reference's; normalisation is Docker's: a first path
// component with a dot or a colon, or `localhost`, names the registry, anything else is a Docker Hub repository
// (`library/` for official images), and a reference without tag or digest means `:latest`. Pure: no I/O.

import { UsageError } from '../errors.js';

/** The registry Docker Hub's names resolve to, and the host that serves its API. */
export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

export interface ImageReference {
  /** Registry host, with its port when given: `docker.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path inside the registry: `library/nginx`, `demo/web`. */
  repository: string;
  /** null when the reference pins a digest only. */
  tag: string | null;
  /** `sha256:<64 hex>` when pinned. */
  digest: string | null;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** distribution's limit on a repository name, domain included. */
const MAX_NAME_LENGTH = 255;

function invalid(text: string, why: string): UsageError {
  return new UsageError(`invalid reference format "${text}": ${why}`);
}

function isValidRegistry(host: string): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host);
  if (match === null) return false;
  const [, name, port] = match;
  if (port !== undefined && Number(port) > 65535) return false;
  return name!.startsWith('[') || name!.split('.').every((part) => DOMAIN_COMPONENT.test(part));
}

/** Parses and normalises a reference; throws a UsageError naming what is wrong. */
export function parseReference(text: string): ImageReference {
  // 1. Split off the digest, then the tag (a colon after the last slash; earlier ones belong to a registry port).
  let rest = text;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(text, 'a digest is sha256: and 64 lowercase hex digits');
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(text, 'a tag is up to 128 letters, digits, _, . and -, not starting with . or -');
  }
  // 2. The registry, if the first component names one.
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let registry = DOCKER_HUB;
  let repository = rest;
  if (first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!isValidRegistry(first)) throw invalid(text, `"${first}" is not a registry host[:port]`);
    registry = first === 'index.docker.io' ? DOCKER_HUB : first;
    repository = rest.slice(slash + 1);
  } else if (!rest.includes('/')) {
    repository = `library/${rest}`;
  }
  // 3. The repository path: lowercase components joined by /.
  if (repository === '' || !repository.split('/').every((part) => COMPONENT.test(part))) {
    throw invalid(text, 'a repository name is lowercase letters, digits and separators (. _ __ -) between slashes');
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) throw invalid(text, `a name is at most ${MAX_NAME_LENGTH} characters`);
  return { registry, repository, tag: tag ?? (digest === null ? 'latest' : null), digest };
}

/** The reference in full: `docker.io/library/nginx:latest`, `127.0.0.1:5000/demo/web@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== null ? `:${ref.tag}` : ''}${ref.digest !== null ? `@${ref.digest}` : ''}`;
}

/** As Docker prints a repository: `nginx` for Docker Hub's official images, else registry/repository. */
export function familiarName(ref: ImageReference): string {
  if (ref.registry === DOCKER_HUB) return ref.repository.replace(/^library\//, '');
  return `${ref.registry}/${ref.repository}`;
}

/** A full reference as Docker prints it: `nginx:latest`, `127.0.0.1:5000/demo/web:1`, `redis@sha256:…`. */
export function familiarReference(name: string): string {
  const ref = parseReference(name);
  return `${familiarName(ref)}${ref.tag !== null ? `:${ref.tag}` : ''}${ref.digest !== null ? `@${ref.digest}` : ''}`;
}

/** The host whose /v2/ API serves the registry. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/**
 * Whether the registry is on a loopback address, which Docker (and minictr) talk to over plain HTTP: 127.0.0.0/8,
 * [::1] and localhost.
 */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]' || host === 'localhost';
}
