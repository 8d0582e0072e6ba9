// How a container's overlay root is mounted, decided before the child exists (the child only makes the calls:
// native/src/mounts.cc, MountOverlay). overlayfs takes its layers two ways:
//   - The new mount API (Linux 6.8 and later): fsopen("overlay"), then one fsconfig(lowerdir+) per layer, topmost
//     first. Each value is one path taken as it is (no ':' or ',' to escape), and only each value is limited
//     (fsconfig copies at most 256 bytes of one), so an image can have as many layers as overlayfs stacks (500).
//   - mount(2), with every option in one string: the kernel copies one page of it (4096 bytes, the last made a NUL)
//     and cuts the rest without a word, then splits it at ',' and the lowerdir at ':'. Older kernels take only this,
//     and with it an image's layers must fit in the page (containers/storage gets round that with short symlinks to
//     the layers and relative paths; minictr's --dry-run script does the same: dry-run.ts).
// The kernel is known by its release, not probed: the version costs nothing, where a probe would cost an addon call
// and a file system context at every run. A kernel older than 6.8 that carries lowerdir+ as a backport is taken for
// older (the page limit applies: safe). One that says 6.8 or later yet refuses lowerdir+, or a seccomp filter that
// answers fsopen with ENOSYS (some nested containers), makes the child fall back to mount(2), which it refuses to
// do with options that would be cut (E2BIG) rather than mount fewer layers.

import type { SpawnOptions } from '../native/index.js';
import { UsageError } from '../errors.js';

/** What mount(2) keeps of its options: one page less the NUL the kernel writes at its end. */
const MOUNT_DATA_MAX = 4095;

/**
 * Room for lowerdir while validating, before the container's upperdir and workdir exist: what they and volatile
 * take (minictr's own paths, about 200 bytes) fits in the rest of the page.
 */
const LOWERDIR_OPTION_MAX = 3500;

/** The longest value fsconfig(FSCONFIG_SET_STRING) takes, without its NUL (strndup_user(value, 256) in the kernel). */
const FSCONFIG_VALUE_MAX = 255;

/** Characters that mount(2)'s overlay options give a meaning to: separators, and the escape. */
const OPTION_SPECIALS = /[,:\\]/;

type OverlayDirs = Pick<SpawnOptions['overlay'], 'lower' | 'upper' | 'work' | 'volatile'>;

/** Whether the kernel of this release (os.release()) is MAJOR.MINOR or later. */
export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const [have = 0, haveMinor = 0] = release.split('.').map((part) => Number.parseInt(part, 10));
  return have > major || (have === major && haveMinor >= minor);
}

/** Whether the child mounts these paths with fsconfig(lowerdir+): the kernel has it (6.8) and takes each path. */
export function usesLowerdirPlus(release: string, paths: readonly string[]): boolean {
  return kernelAtLeast(release, 6, 8) && paths.every((path) => Buffer.byteLength(path) <= FSCONFIG_VALUE_MAX);
}

/** mount(2)'s options for the overlay; null where mount(2) cannot take them (a special character, or past a page). */
export function mountData({ lower, upper, work, volatile }: OverlayDirs): string | null {
  if ([...lower, upper, work].some((path) => OPTION_SPECIALS.test(path))) return null;
  const data = `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}${volatile ? ',volatile' : ''}`;
  return Buffer.byteLength(data) <= MOUNT_DATA_MAX ? data : null;
}

/**
 * Validation: throws the user's error when this kernel cannot mount an overlay of `layers` (topmost first); `what`
 * names them (`image NAME`, `--rootfs PATH`). Only mount(2) has limits to check.
 */
export function checkOverlayLayers(release: string, layers: readonly string[], what: string): void {
  if (usesLowerdirPlus(release, layers)) return;
  const special = layers.find((path) => OPTION_SPECIALS.test(path));
  if (special !== undefined) {
    throw new UsageError(`${what}: overlayfs's mount options cannot take the path "${special}" (it holds ',', ':' or '\\'), and this kernel has no lowerdir+ (Linux 6.8)`);
  }
  if (Buffer.byteLength(layers.join(':')) > LOWERDIR_OPTION_MAX) {
    throw new UsageError(`${what}: its ${layers.length} layers make overlay options longer than mount(2) takes (one page), and this kernel has no lowerdir+ (Linux 6.8)`);
  }
}

/**
 * The child's overlay: `lower` (topmost first) under `upper`, mounted on `target`. volatile where the kernel has it
 * (5.10): overlayfs then never syncs the upper file system, which it otherwise does in full (all of /var/lib's file
 * system) when the container's mount namespace goes, 5-20 ms at every exit on these machines, and at every fsync()
 * inside. A writable layer is removed when its container ends, and after a crash gc removes it, so it never has to
 * survive one.
 */
export function overlayOptions(
  release: string,
  lower: readonly string[],
  dirs: { upper: string; work: string; target: string },
): SpawnOptions['overlay'] {
  const overlay = { lower: [...lower], upper: dirs.upper, work: dirs.work, volatile: kernelAtLeast(release, 5, 10) };
  return {
    ...overlay,
    target: dirs.target,
    lowerdirPlus: usesLowerdirPlus(release, [...lower, dirs.upper, dirs.work]),
    options: mountData(overlay),
  };
}
