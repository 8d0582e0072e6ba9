// The names a user-defined network's resolver answers for: one JSON file per container on the network, under
// /run/minictr/networks/NAME/hosts/<container id>, written when the container's address is leased and removed
// when it is released. Each file is put in place whole (written aside, then renamed), so the resolver, which
// reloads the directory whenever its mtime changes, never reads half a record.

import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileNamed } from '../../sys/reserved-space.js';

export interface Endpoint {
  /** The container's id. */
  id: string;
  /** Its address on the network. */
  address: string;
  /** Its IPv6 address on a dual-stack network. */
  address6?: string;
  /** Its names there: name, hostname, short id, --network-alias. Lower-cased: DNS names compare without case. */
  names: string[];
  /** --dns: where the resolver forwards this container's other queries; empty: the host's resolvers. */
  dns: string[];
}

export function hostsDir(networkStateDir: string): string {
  return join(networkStateDir, 'hosts');
}

/**
 * The resolver reads the records as nobody (server.ts), through its descriptor of the network's state directory:
 * so they are readable by all whatever minictr's umask (with the usual 022 they were already).
 */
export function writeEndpoint(networkStateDir: string, endpoint: Endpoint): void {
  const dir = hostsDir(networkStateDir);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const names = [...new Set(endpoint.names.map((name) => name.toLowerCase()))];
  const aside = join(dir, `.${endpoint.id}`);
  writeFileNamed(aside, `${JSON.stringify({ ...endpoint, names })}\n`);
  chmodSync(aside, 0o644);
  renameSync(aside, join(dir, endpoint.id));
}

/** Removes the container's record; missing counts as removed. */
export function removeEndpoint(networkStateDir: string, id: string): void {
  rmSync(join(hostsDir(networkStateDir), id), { force: true });
}

/** Every record; a file that cannot be read or parsed (being replaced, or foreign) is skipped. */
export function readEndpoints(networkStateDir: string): Endpoint[] {
  const dir = hostsDir(networkStateDir);
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => !file.startsWith('.'));
  } catch {
    return [];
  }
  return files.flatMap((file) => {
    try {
      const endpoint = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Endpoint;
      return typeof endpoint.address === 'string' && Array.isArray(endpoint.names) ? [endpoint] : [];
    } catch {
      return [];
    }
  });
}
