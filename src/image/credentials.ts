// Registry credentials, where Docker keeps them: the `auths` of $DOCKER_CONFIG/config.json (default
// ~/.docker/config.json), each a base64 "user:password" under the registry's name (Docker Hub's also under its old
// https://index.docker.io/v1/ key). `minictr login` writes there too, so docker, podman and minictr share logins.
// Credential helpers (credsStore, credHelpers) are not run: minictr starts no program of the user's to get a secret.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { MinictrError } from '../errors.js';
import type { Credentials } from './registry.js';
import { DOCKER_HUB } from './reference.js';

const DOCKER_HUB_KEYS = [DOCKER_HUB, 'https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io'];

/** The keys Docker has used for a registry in `auths`. */
function keysFor(registry: string): string[] {
  return registry === DOCKER_HUB ? DOCKER_HUB_KEYS : [registry, `https://${registry}`, `http://${registry}`];
}

export function dockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
}

interface DockerConfig {
  auths?: Record<string, { auth?: string }>;
  [key: string]: unknown;
}

function readConfig(path: string): DockerConfig {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as DockerConfig) : {};
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new MinictrError(`read credentials ${path}: ${(cause as Error).message}`, 'failure', cause);
  }
}

/** The credentials stored for `registry`, or null (anonymous). */
export function credentialsFor(registry: string, path = dockerConfigPath()): Credentials | null {
  const auths = readConfig(path).auths ?? {};
  for (const key of keysFor(registry)) {
    const encoded = auths[key]?.auth;
    if (typeof encoded !== 'string' || encoded === '') continue;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new MinictrError(`credentials for ${registry} in ${path}: "auth" is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return null;
}

function keyFor(registry: string): string {
  return registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
}

/** Writes the whole file anew (then renames it into place, mode 0600), keeping everything minictr does not own. */
function writeConfig(path: string, config: DockerConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

/** Stores credentials for `registry`. */
export function storeCredentials(registry: string, credentials: Credentials, path = dockerConfigPath()): void {
  const config = readConfig(path);
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  config.auths = { ...(config.auths ?? {}), [keyFor(registry)]: { auth } };
  writeConfig(path, config);
}

/** Removes the credentials stored for `registry`; false when there were none. */
export function forgetCredentials(registry: string, path = dockerConfigPath()): boolean {
  const config = readConfig(path);
  const present = keysFor(registry).filter((key) => config.auths?.[key] !== undefined);
  if (present.length === 0) return false;
  for (const key of present) delete config.auths![key];
  writeConfig(path, config);
  return true;
}
