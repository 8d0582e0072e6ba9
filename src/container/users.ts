// --user USER[:GROUP], resolved as Docker does: numbers are taken as they are, names are looked up in the
// rootfs's own /etc/passwd and /etc/group (never the host's), and a user's home becomes $HOME. Those files are the
// rootfs's or the container's to make anything of, so they are read through readContainedFile (regular files of at
// most 1 MiB). A number needs no lookup: `-u 0` works even where /etc/passwd is missing or unusable, as in Docker.

import { UsageError } from '../errors.js';
import { warn } from '../log.js';
import { readContainedFile } from './contained-file.js';
import type { Root } from './layered-root.js';

export interface User {
  uid: number;
  gid: number;
  home: string;
}

/** Larger than any real passwd or group file, small enough to read at once. */
const MAX_ID_FILE_BYTES = 1024 * 1024;

/**
 * The lines of `file`, split into fields; none when it does not exist. When it is unusable, `lookup` (the name
 * being looked up) gets the reason as its error; without a name to look up, it is ignored with a warning.
 */
function entries(root: Root, file: string, where: string, lookup: string | null): string[][] {
  let text: string | null;
  try {
    text = readContainedFile(root, file, MAX_ID_FILE_BYTES);
  } catch (cause) {
    const reason = `${(cause as Error).message} (in ${where})`;
    if (lookup !== null) throw new UsageError(`unable to find ${lookup}: ${reason}`);
    warn(`${reason}; a numeric user needs no entry there: carrying on without it`);
    return [];
  }
  return (text ?? '').split('\n').filter(Boolean).map((line) => line.split(':'));
}

const ID = /^\d{1,10}$/;

/** An id field of a passwd or group entry: digits only (Number() would read "" as 0, root). */
function idField(entry: string[], index: number, file: string, where: string): number {
  const field = entry[index] ?? '';
  if (!ID.test(field)) throw new UsageError(`invalid id "${field}" for ${entry[0]} in ${file} (in ${where})`);
  return Number(field);
}

/** Resolves `spec` against the files of `root`; `where` names it in errors ("rootfs /x", "container web"). */
export function resolveUser(root: Root, spec: string, where: string): User {
  const [name, group, ...rest] = spec.split(':');
  if (!name || rest.length > 0 || group === '') throw new UsageError(`invalid --user "${spec}": expected USER[:GROUP]`);
  const numeric = ID.test(name);
  const passwd = entries(root, '/etc/passwd', where, numeric ? null : `user ${name}`);
  const entry = numeric ? passwd.find((e) => e[2] === name) : passwd.find((e) => e[0] === name);
  if (!numeric && entry === undefined) {
    throw new UsageError(`unable to find user ${name}: no matching entries in passwd file`);
  }
  const uid = numeric ? Number(name) : idField(entry!, 2, '/etc/passwd', where);
  let gid: number;
  if (group === undefined) {
    gid = entry === undefined ? 0 : idField(entry, 3, '/etc/passwd', where);
  } else if (ID.test(group)) {
    gid = Number(group);
  } else {
    const groupEntry = entries(root, '/etc/group', where, `group ${group}`).find((e) => e[0] === group);
    if (groupEntry === undefined) throw new UsageError(`unable to find group ${group}: no matching entries in group file`);
    gid = idField(groupEntry, 2, '/etc/group', where);
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) {
    throw new UsageError(`invalid --user "${spec}": ids go up to 4294967294`);
  }
  return { uid, gid, home: entry?.[5] || '/' };
}
