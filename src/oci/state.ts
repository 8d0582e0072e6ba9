// minictr-oci's state directory: <root>/<id>/ (root: --root, default /run/minictr-oci) holds state.json (written
// once by `create`) and exec.fifo, which exists from `create` until `start` (runc's layout). The status is derived,
// never stored: the process gone, a zombie or a different process under its pid → stopped; the FIFO still there →
// created; otherwise running. So the directory outlives the CLI and needs no process to keep it up to date.

import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { MinictrError, UsageError } from '../errors.js';
import type { Hooks } from './config.js';

export const DEFAULT_ROOT = '/run/minictr-oci';

export interface Record {
  id: string;
  pid: number;
  /** /proc/PID/stat field 22 of the container's process, to tell it from a later process of the same pid. */
  startTime: number;
  bundle: string;
  created: string;
  annotations: { [key: string]: string };
  /** cgroup directories the container's process was moved into (removed by `delete`). */
  cgroups: string[];
  /** The hooks `start` and `delete` still run, from config.json at create time. */
  hooks: Hooks;
}

export type Status = 'creating' | 'created' | 'running' | 'stopped';

/** The spec's state (runtime.md "State"), which `state` prints and hooks read on stdin. */
export interface OciState {
  ociVersion: string;
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  annotations: { [key: string]: string };
}

export const OCI_VERSION = '1.0.2';

export function checkId(id: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.+-]{0,127}$/.test(id)) throw new UsageError(`invalid container id "${id}": use [a-zA-Z0-9][a-zA-Z0-9_.+-]*`);
  return id;
}

export const containerDir = (root: string, id: string): string => join(root, checkId(id));
export const fifoPath = (root: string, id: string): string => join(containerDir(root, id), 'exec.fifo');

export function readRecord(root: string, id: string): Record {
  const path = join(containerDir(root, id), 'state.json');
  if (!existsSync(path)) throw new MinictrError(`container "${id}" does not exist`);
  return JSON.parse(readFileSync(path, 'utf8')) as Record;
}

export function writeRecord(root: string, record: Record): void {
  const path = join(containerDir(root, record.id), 'state.json');
  writeFileSync(`${path}.tmp`, JSON.stringify(record));
  renameSync(`${path}.tmp`, path);
}

/** Start time (field 22) and state letter (field 3) of /proc/PID/stat; null when there is no such process. */
export function processStat(pid: number): { startTime: number; state: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, startTime: Number(fields[19]) };
}

/** Whether the recorded process still runs (not a zombie, not a later process under the same pid). */
export function alive(record: Record): boolean {
  const stat = processStat(record.pid);
  return stat !== null && stat.startTime === record.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

export function statusOf(root: string, record: Record): Status {
  if (!alive(record)) return 'stopped';
  return existsSync(fifoPath(root, record.id)) ? 'created' : 'running';
}

export function ociState(root: string, record: Record, status: Status = statusOf(root, record)): OciState {
  return {
    ociVersion: OCI_VERSION,
    id: record.id,
    status,
    pid: status === 'stopped' ? 0 : record.pid,
    bundle: record.bundle,
    annotations: record.annotations,
  };
}
