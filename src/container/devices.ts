// --device HOST[:CONTAINER[:PERMS]], as Docker parses it: a host device node made available in the container. The
// syntax is checked with the other flags (pure); that the host path is a character or block device is checked in
// validation, before anything exists. Each device becomes a node the child creates in the container's /dev and a
// rule of the container's device policy (src/bpf/device-filter.ts), which --privileged lifts altogether.

import { statSync } from 'node:fs';
import { posix } from 'node:path';
import { DEFAULT_DEVICE_RULES, parseAccess, type DeviceAccess, type DeviceRule } from '../bpf/device-filter.js';
import { UsageError } from '../errors.js';

/** A --device flag, parsed. */
export interface DeviceRequest {
  hostPath: string;
  containerPath: string;
  access: DeviceAccess;
}

/** A --device resolved on the host: what the child creates, and what the policy allows. */
export interface Device {
  /** In the container, under /dev/. */
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Permission bits of the host's node. */
  mode: number;
  access: DeviceAccess;
}

/** Docker's parse: HOST, HOST:CONTAINER, HOST:PERMS (when it reads as rwm letters), HOST:CONTAINER:PERMS. */
export function parseDeviceFlag(value: string): DeviceRequest {
  const fail = (why: string) => new UsageError(`invalid --device "${value}": ${why}`);
  const parts = value.split(':');
  if (parts.length > 3 || parts.some((part) => part === '')) throw fail('expected HOST[:CONTAINER[:PERMS]]');
  const [hostPath, second, third] = parts as [string, string | undefined, string | undefined];
  let containerPath = hostPath;
  let access: DeviceAccess | null = 'rwm';
  if (third !== undefined) {
    containerPath = second!;
    access = parseAccess(third);
  } else if (second !== undefined) {
    if (parseAccess(second) !== null) access = parseAccess(second);
    else containerPath = second;
  }
  if (access === null) throw fail('PERMS must be letters among r, w and m');
  if (!posix.isAbsolute(hostPath)) throw fail('the host path must be absolute');
  const normalized = posix.normalize(containerPath);
  if (!normalized.startsWith('/dev/') || normalized.endsWith('/') || normalized.split('/').includes('..') || value.includes('\0')) {
    throw fail('the container path must name a file under /dev/');
  }
  return { hostPath, containerPath: normalized, access };
}

// glibc's gnu_dev_major and gnu_dev_minor.
const majorOf = (rdev: bigint) => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
const minorOf = (rdev: bigint) => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));

/** Looks each host path up (following symlinks, as Docker does): it must be a character or block device. */
export function resolveDevices(requests: readonly DeviceRequest[]): Device[] {
  return requests.map((request) => {
    const name = `--device ${request.hostPath}`;
    let info;
    try {
      info = statSync(request.hostPath, { bigint: true });
    } catch (cause) {
      throw new UsageError(`invalid ${name}: ${(cause as NodeJS.ErrnoException).code ?? 'cannot stat'}: no such device on the host`);
    }
    if (!info.isCharacterDevice() && !info.isBlockDevice()) throw new UsageError(`invalid ${name}: not a character or block device`);
    return {
      path: request.containerPath,
      type: info.isCharacterDevice() ? 'c' : 'b',
      major: majorOf(info.rdev),
      minor: minorOf(info.rdev),
      mode: Number(info.mode & 0o7777n),
      access: request.access,
    };
  });
}

/** The container's device policy: the defaults and its --device nodes; null with --privileged (every device). */
export function devicePolicy(devices: readonly Device[], privileged: boolean): DeviceRule[] | null {
  if (privileged) return null;
  return [...DEFAULT_DEVICE_RULES, ...devices.map(({ type, major, minor, access }) => ({ type, major, minor, access }))];
}
