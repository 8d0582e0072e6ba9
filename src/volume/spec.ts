// -v, --mount and --tmpfs, as Docker reads them, turned into MountRequests: pure, so every rule for bad input is
// unit-tested (test/unit/volume-spec.test.ts). What needs the file system (a --mount bind source that must exist,
// the volume store) is checked in container/mounts.ts, still before anything is created.
//
//   -v HOST:CTR[:ro|rw]         bind mount; HOST is absolute, or ./ or ../ relative to the working directory (as
//                               Docker's CLI has it since 23); a missing HOST is created as a directory
//   -v NAME:CTR[:ro|rw]         named volume (created when missing, seeded from the image on first use)
//   -v CTR                      anonymous volume (a random 64-digit name; removed with --rm and rm -v)
//   --mount type=bind|volume|tmpfs,source=…,target=…,readonly,volume-nocopy,tmpfs-size=…,tmpfs-mode=…
//   --tmpfs CTR[:size=…,mode=…,ro|rw]
//
// Container paths are refused unless absolute and clean: no `..` (it would not mean what it says once symlinks in
// the image are followed), not `/`, not twice, and not under /proc, /sys or /dev, which minictr mounts after the
// volumes (a volume there would be hidden).

import { posix } from 'node:path';
import { UsageError } from '../errors.js';
import { parseSize } from '../sys/numbers.js';

export type MountRequest =
  | {
      type: 'bind';
      /** Absolute host path. */
      source: string;
      target: string;
      readOnly: boolean;
      /** -v: a missing source is created as a directory; --mount: it must exist. */
      createSource: boolean;
    }
  | {
      type: 'volume';
      /** null: an anonymous volume, named when the run is planned. */
      name: string | null;
      target: string;
      readOnly: boolean;
      /** volume-nocopy: never seeded from the image. */
      noCopy: boolean;
    }
  | { type: 'tmpfs'; target: string; readOnly: boolean; size: number | null; mode: number | null };

/** Docker's rule for volume names (as for container names). */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const MAX_VOLUME_NAME = 128;
/** Mounted by minictr after the volumes, and so over them. */
const RUNTIME_PATHS = ['/proc', '/sys', '/dev'];
const MODE = /^[0-7]{1,4}$/;

export function checkVolumeName(name: string, what: string): string {
  if (!VOLUME_NAME.test(name) || name.length > MAX_VOLUME_NAME) {
    throw new UsageError(`invalid ${what}: volume name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-]+ (from 2 to ${MAX_VOLUME_NAME} characters)`);
  }
  return name;
}

/** A container path: absolute, no `..`, not `/`, not a path minictr mounts itself. Returns it normalised. */
function containerPath(path: string, what: string): string {
  if (path.includes('\0')) throw new UsageError(`invalid ${what}: the container path contains a NUL byte`);
  if (!path.startsWith('/')) throw new UsageError(`invalid ${what}: container path "${path}" must be absolute`);
  if (path.split('/').includes('..')) throw new UsageError(`invalid ${what}: container path "${path}" contains ".."`);
  const target = posix.normalize(path).replace(/(.)\/$/, '$1');
  if (target === '/') throw new UsageError(`invalid ${what}: cannot mount over the container's root "/"`);
  const runtime = RUNTIME_PATHS.find((dir) => target === dir || target.startsWith(`${dir}/`));
  if (runtime !== undefined) {
    throw new UsageError(`invalid ${what}: container path "${target}" is under ${runtime}, which minictr mounts itself`);
  }
  return target;
}

function hostPath(path: string, cwd: string, what: string): string {
  if (path.includes('\0')) throw new UsageError(`invalid ${what}: the host path contains a NUL byte`);
  return posix.resolve(cwd, path);
}

function readOnlyOption(option: string | undefined, what: string): boolean {
  if (option === undefined || option === 'rw') return false;
  if (option === 'ro') return true;
  throw new UsageError(`invalid ${what}: option "${option}" is not supported (ro or rw)`);
}

/** -v HOST:CTR[:ro|rw], -v NAME:CTR[:ro|rw], -v CTR. */
export function parseVolumeFlag(value: string, cwd: string): MountRequest {
  const what = `--volume "${value}"`;
  const parts = value.split(':');
  if (parts.length > 3 || parts.some((part) => part === '')) {
    throw new UsageError(`invalid ${what}: expected HOST-PATH:CONTAINER-PATH[:ro], NAME:CONTAINER-PATH[:ro] or CONTAINER-PATH`);
  }
  if (parts.length === 1) return { type: 'volume', name: null, target: containerPath(parts[0]!, what), readOnly: false, noCopy: false };
  const [source, target, option] = parts as [string, string, string | undefined];
  const readOnly = readOnlyOption(option, what);
  if (source.startsWith('/') || source.startsWith('./') || source.startsWith('../') || source === '.' || source === '..') {
    return { type: 'bind', source: hostPath(source, cwd, what), target: containerPath(target, what), readOnly, createSource: true };
  }
  return { type: 'volume', name: checkVolumeName(source, what), target: containerPath(target, what), readOnly, noCopy: false };
}

/** `true`, `1` or nothing is true; `false` or `0` is false (Docker's readonly and volume-nocopy). */
function flagValue(key: string, value: string | undefined, what: string): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`invalid ${what}: ${key} takes true or false, not "${value}"`);
}

function tmpfsSize(text: string, what: string): number {
  const size = parseSize(text);
  // A size past 2^53 would reach the kernel written as 1e+29.
  if (size === null || size <= 0 || !Number.isSafeInteger(size)) throw new UsageError(`invalid ${what}: tmpfs size "${text}" is not a size (64m, 1g)`);
  return size;
}

function tmpfsMode(text: string, what: string): number {
  if (!MODE.test(text)) throw new UsageError(`invalid ${what}: tmpfs mode "${text}" is not an octal mode (1777, 700)`);
  return Number.parseInt(text, 8);
}

/** --mount type=…,source=…,target=…,… (Docker's keys; type defaults to volume). */
export function parseMountFlag(value: string, cwd: string): MountRequest {
  const what = `--mount "${value}"`;
  const fields = new Map<string, string | undefined>();
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const canonical = { src: 'source', destination: 'target', dst: 'target', ro: 'readonly' }[key] ?? key;
    if (fields.has(canonical)) throw new UsageError(`invalid ${what}: ${canonical} is given twice`);
    fields.set(canonical, eq < 0 ? undefined : field.slice(eq + 1));
  }
  const type = fields.get('type') ?? 'volume';
  const allowed: Record<string, string[]> = {
    bind: ['type', 'source', 'target', 'readonly'],
    volume: ['type', 'source', 'target', 'readonly', 'volume-nocopy'],
    tmpfs: ['type', 'target', 'readonly', 'tmpfs-size', 'tmpfs-mode'],
  };
  const keys = allowed[type];
  if (keys === undefined) throw new UsageError(`invalid ${what}: type "${type}" is not bind, volume or tmpfs`);
  const unknown = [...fields.keys()].find((key) => !keys.includes(key));
  if (unknown !== undefined) throw new UsageError(`invalid ${what}: "${unknown}" is not supported for type=${type} (${keys.join(', ')})`);
  const target = fields.get('target');
  if (target === undefined || target === '') throw new UsageError(`invalid ${what}: target is required`);
  const readOnly = fields.has('readonly') && flagValue('readonly', fields.get('readonly'), what);
  const source = fields.get('source');
  switch (type) {
    case 'bind':
      if (source === undefined || source === '') throw new UsageError(`invalid ${what}: source is required for type=bind`);
      if (!source.startsWith('/')) throw new UsageError(`invalid ${what}: bind source "${source}" must be an absolute path`);
      return { type: 'bind', source: hostPath(source, cwd, what), target: containerPath(target, what), readOnly, createSource: false };
    case 'volume':
      return {
        type: 'volume',
        name: source === undefined || source === '' ? null : checkVolumeName(source, what),
        target: containerPath(target, what),
        readOnly,
        noCopy: fields.has('volume-nocopy') && flagValue('volume-nocopy', fields.get('volume-nocopy'), what),
      };
    default: {
      const size = fields.get('tmpfs-size');
      const mode = fields.get('tmpfs-mode');
      return {
        type: 'tmpfs',
        target: containerPath(target, what),
        readOnly,
        size: size === undefined ? null : tmpfsSize(size, what),
        mode: mode === undefined ? null : tmpfsMode(mode, what),
      };
    }
  }
}

/** --tmpfs CTR[:size=…,mode=…,ro|rw]. */
export function parseTmpfsFlag(value: string): MountRequest {
  const what = `--tmpfs "${value}"`;
  const colon = value.indexOf(':');
  const target = containerPath(colon < 0 ? value : value.slice(0, colon), what);
  let size: number | null = null;
  let mode: number | null = null;
  let readOnly = false;
  for (const option of colon < 0 ? [] : value.slice(colon + 1).split(',')) {
    const [key, text] = option.split('=', 2) as [string, string | undefined];
    if (key === 'size' && text !== undefined) size = tmpfsSize(text, what);
    else if (key === 'mode' && text !== undefined) mode = tmpfsMode(text, what);
    else if ((key === 'ro' || key === 'rw') && text === undefined) readOnly = key === 'ro';
    else throw new UsageError(`invalid ${what}: option "${option}" is not supported (size=SIZE, mode=OCTAL, ro, rw)`);
  }
  return { type: 'tmpfs', target, readOnly, size, mode };
}

/**
 * Every mount flag of a run, refused on a duplicate container path, in the order they are mounted: by depth, so
 * that a mount on /data is made before one on /data/cache (Docker sorts the same way).
 */
export function parseMountFlags(flags: { volume?: string[]; mount?: string[]; tmpfs?: string[] }, cwd: string): MountRequest[] {
  const mounts = [
    ...(flags.volume ?? []).map((value) => parseVolumeFlag(value, cwd)),
    ...(flags.mount ?? []).map((value) => parseMountFlag(value, cwd)),
    ...(flags.tmpfs ?? []).map(parseTmpfsFlag),
  ];
  const seen = new Set<string>();
  for (const mount of mounts) {
    if (seen.has(mount.target)) throw new UsageError(`duplicate mount point: ${mount.target} is given twice (-v, --mount, --tmpfs)`);
    seen.add(mount.target);
  }
  const depth = (path: string) => path.split('/').length;
  return mounts.sort((a, b) => depth(a.target) - depth(b.target));
}
