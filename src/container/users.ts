// --user USER[:GROUP], resolved as Docker does: numbers are taken as they are, names are looked up in the
// rootfs's own /etc/passwd and /etc/group (never the host's), and a user's home becomes $HOME.

import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { resolveInRoot } from './rootfs.js';

export interface User {
  uid: number;
  gid: number;
  home: string;
}

function entries(rootfs: string, file: string): string[][] {
  const path = resolveInRoot(rootfs, file);
  try {
    return path === null ? [] : readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => line.split(':'));
  } catch {
    return [];
  }
}

const ID = /^\d{1,10}$/;

export function resolveUser(rootfs: string, spec: string): User {
  const [name, group, ...rest] = spec.split(':');
  if (!name || rest.length > 0 || group === '') throw new UsageError(`invalid --user "${spec}": expected USER[:GROUP]`);
  const passwd = entries(rootfs, '/etc/passwd');
  const entry = ID.test(name) ? passwd.find((e) => e[2] === name) : passwd.find((e) => e[0] === name);
  if (!ID.test(name) && entry === undefined) {
    throw new UsageError(`unable to find user ${name}: no matching entries in passwd file`);
  }
  const uid = Number(ID.test(name) ? name : entry![2]);
  let gid = Number(entry?.[3] ?? 0);
  if (group !== undefined) {
    const groupEntry = entries(rootfs, '/etc/group').find((e) => e[0] === group);
    if (!ID.test(group) && groupEntry === undefined) {
      throw new UsageError(`unable to find group ${group}: no matching entries in group file`);
    }
    gid = Number(ID.test(group) ? group : groupEntry![2]);
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe || Number.isNaN(uid) || Number.isNaN(gid)) {
    throw new UsageError(`invalid --user "${spec}": ids go up to 4294967294`);
  }
  return { uid, gid, home: entry?.[5] || '/' };
}
