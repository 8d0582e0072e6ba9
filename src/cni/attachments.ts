// minictr-cni's records: one file per attachment (a container's interface on a CNI network), under
// /run/minictr/cni/<network>/attachments, and the network's address leases beside it (network/ipam.ts's files,
// whose owner is the attachment's). The record plays the part of a container's journal: ADD creates it, with
// O_EXCL, before anything else (so a second ADD of the same container and interface is refused at once), and
// rewrites it as it takes a lease and before each object it then creates; DEL undoes what the record names, releases
// whatever its owner holds, and removes the record last. A killed ADD therefore leaves nothing DEL cannot find.
//
// The owner string, "cni:<network>/<container id>/<ifname>", is also what holds the published host ports in
// minictr's shared port registry (so `minictr run -p` and the plugin never publish the same port); minictr's gc
// leaves such owners alone (isCniOwner): their DEL, or the runtime's GC, releases them.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stepError } from '../errors.js';
import { Ipam } from '../network/ipam.js';
import type { PortMapping } from '../network/ports.js';
import { PATHS } from '../paths.js';
import { createExclusive, temporaryName } from '../sys/exclusive-file.js';
import type { AttachmentKey, CniNetwork } from './protocol.js';

export interface AttachmentRecord extends AttachmentKey {
  network: string;
  /** Host end of the veth pair. */
  veth: string;
  netns: string;
  /** The leased address, once leased. */
  address: string | null;
  /** Published ports, once claimed (with the address: their map elements lead to it). */
  ports: PortMapping[];
}

const OWNER_PREFIX = 'cni:';

export function ownerOf(network: string, key: AttachmentKey): string {
  return `${OWNER_PREFIX}${network}/${key.containerId}/${key.ifname}`;
}

/** Whether a registry's owner is an attachment of minictr-cni rather than a minictr container. */
export function isCniOwner(owner: string): boolean {
  return owner.startsWith(OWNER_PREFIX);
}

function networkDir(network: string): string {
  return join(PATHS.cni, network);
}

function attachmentsDir(network: string): string {
  return join(networkDir(network), 'attachments');
}

/** The record's file: a hash of the owner, since container ids and interface names may be long. */
function recordPath(network: string, key: AttachmentKey): string {
  return join(attachmentsDir(network), `${createHash('sha256').update(ownerOf(network, key)).digest('hex').slice(0, 32)}.json`);
}

/**
 * The host end of the veth: "mk" + 12 hex digits of the same hash over the network too. Not "mc" + 12, which is a
 * minictr container's and gc's to delete.
 */
export function hostVethOf(network: string, key: AttachmentKey): string {
  return `mk${createHash('sha256').update(`veth:${ownerOf(network, key)}`).digest('hex').slice(0, 12)}`;
}

export function leasesOf(network: CniNetwork): Ipam {
  return new Ipam(join(networkDir(network.name), 'leases'), network.subnet, [network.gateway]);
}

/** Creates the record; false when one exists already (ADD twice). */
export function createRecord(record: AttachmentRecord): boolean {
  mkdirSync(attachmentsDir(record.network), { recursive: true, mode: 0o700 });
  return createExclusive(recordPath(record.network, record), JSON.stringify(record));
}

/** Replaces the record whole (a rename: a reader never sees half of it). */
export function updateRecord(record: AttachmentRecord): void {
  const path = recordPath(record.network, record);
  const temporary = join(attachmentsDir(record.network), temporaryName('record'));
  try {
    writeFileSync(temporary, JSON.stringify(record));
    renameSync(temporary, path);
  } catch (cause) {
    rmSync(temporary, { force: true });
    throw stepError('write attachment record', path, cause);
  }
}

export function readRecord(network: string, key: AttachmentKey): AttachmentRecord | null {
  return parseRecord(recordPath(network, key));
}

function parseRecord(path: string): AttachmentRecord | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw stepError('read attachment record', path, cause);
  }
  return JSON.parse(text) as AttachmentRecord;
}

export function removeRecord(network: string, key: AttachmentKey): void {
  rmSync(recordPath(network, key), { force: true });
}

/** Every attachment of the network (GC compares them with the runtime's list). */
export function listRecords(network: string): AttachmentRecord[] {
  let files: string[];
  try {
    files = readdirSync(attachmentsDir(network)).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  return files.flatMap((file) => parseRecord(join(attachmentsDir(network), file)) ?? []);
}
