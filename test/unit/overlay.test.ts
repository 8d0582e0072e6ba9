// How the overlay root is mounted, decided from the kernel's release and the paths: fsconfig(lowerdir+) on Linux 6.8
// and later (each path within fsconfig's 255 bytes), mount(2) otherwise, whose one page of options limits the layers
// and whose separators limit the paths; validation refuses only what the chosen way cannot mount.
import { describe, expect, it } from 'vitest';
import { checkOverlayLayers, kernelAtLeast, mountData, overlayOptions, usesLowerdirPlus } from '../../src/container/overlay.js';
import { UsageError } from '../../src/errors.js';

/** n layers as the store names them: /var/lib/minictr/layers/<64 hex>/diff, 93 bytes each. */
const layers = (n: number) => Array.from({ length: n }, (_, i) => `/var/lib/minictr/layers/${i.toString(16).padStart(64, '0')}/diff`);
const dirs = { upper: '/var/lib/minictr/containers/c/upper', work: '/var/lib/minictr/containers/c/work', target: '/run/minictr/containers/c/merged' };

describe('kernelAtLeast', () => {
  it.each([
    ['6.8.0', 6, 8, true],
    ['6.18.44-fc-v1098', 6, 8, true],
    ['6.7.12-generic', 6, 8, false],
    ['5.10.0-28-amd64', 5, 10, true],
    ['5.4.0', 5, 10, false],
    ['7.0', 6, 8, true],
    ['garbage', 5, 10, false],
  ])('%s ≥ %d.%d: %s', (release, major, minor, expected) => {
    expect(kernelAtLeast(release, major, minor)).toBe(expected);
  });
});

describe('usesLowerdirPlus', () => {
  it('needs Linux 6.8 and every path within fsconfig\'s 255 bytes', () => {
    expect(usesLowerdirPlus('6.8.0', layers(130))).toBe(true);
    expect(usesLowerdirPlus('6.7.0', layers(1))).toBe(false);
    expect(usesLowerdirPlus('6.8.0', [`/${'a'.repeat(254)}`])).toBe(true);
    expect(usesLowerdirPlus('6.8.0', [`/${'a'.repeat(255)}`])).toBe(false);
    expect(usesLowerdirPlus('6.8.0', [`/${'é'.repeat(128)}`])).toBe(false); // 129 characters, but 257 bytes
  });
});

describe('mountData', () => {
  it("is mount(2)'s option string, lowerdir topmost first", () => {
    expect(mountData({ lower: ['/l/top', '/l/bottom'], upper: '/u', work: '/w', volatile: true })).toBe('lowerdir=/l/top:/l/bottom,upperdir=/u,workdir=/w,volatile');
    expect(mountData({ lower: ['/l'], upper: '/u', work: '/w', volatile: false })).toBe('lowerdir=/l,upperdir=/u,workdir=/w');
  });

  it('is null past one page (the kernel would cut it) or where a path holds a separator or the escape', () => {
    const data = (lower: string[]) => mountData({ lower, upper: dirs.upper, work: dirs.work, volatile: true });
    expect(data(layers(40))).not.toBeNull(); // 3759 bytes of lowerdir
    expect(data(layers(43))).toBeNull(); // 4041 of lowerdir, 4127 in all
    for (const path of ['/a:b', '/a,b', '/a\\b']) expect(data([path])).toBeNull();
  });
});

describe('checkOverlayLayers', () => {
  it('takes any number of layers, and any path, where lowerdir+ is used', () => {
    expect(() => checkOverlayLayers('6.8.0', layers(130), 'image x')).not.toThrow();
    expect(() => checkOverlayLayers('6.8.0', ['/images/a:b,c'], '--rootfs')).not.toThrow();
  });

  it('refuses what mount(2) cannot take on an older kernel, naming the image or --rootfs', () => {
    expect(() => checkOverlayLayers('6.7.0', layers(37), 'image x')).not.toThrow();
    expect(() => checkOverlayLayers('6.7.0', layers(130), 'image x')).toThrow(UsageError);
    expect(() => checkOverlayLayers('6.7.0', layers(130), 'image x')).toThrow(/^image x: its 130 layers make overlay options longer than mount\(2\) takes \(one page\)/);
    expect(() => checkOverlayLayers('5.15.0', ['/images/a,b'], 'invalid --rootfs "/images/a,b"')).toThrow(/^invalid --rootfs "\/images\/a,b": .*cannot take the path/);
  });

  it('refuses with mount(2) where a path is too long for fsconfig, on any kernel', () => {
    const long = `/${'d'.repeat(300)}`;
    expect(() => checkOverlayLayers('6.18.0', [long], '--rootfs')).not.toThrow(); // one long path fits in a page
    expect(() => checkOverlayLayers('6.18.0', Array.from({ length: 20 }, () => long), 'image x')).toThrow(/its 20 layers/);
  });
});

describe('overlayOptions', () => {
  it("gives the child both ways: lowerdir+ where the kernel has it, and mount(2)'s options where they fit", () => {
    expect(overlayOptions('6.18.44', layers(130), dirs)).toMatchObject({ lowerdirPlus: true, options: null, volatile: true, target: dirs.target });
    expect(overlayOptions('6.18.44', layers(2), dirs)).toMatchObject({ lowerdirPlus: true, options: expect.stringMatching(/^lowerdir=.*,volatile$/) });
    expect(overlayOptions('6.1.0', layers(2), dirs)).toMatchObject({ lowerdirPlus: false, options: expect.stringMatching(/^lowerdir=/) });
    expect(overlayOptions('5.4.0', layers(1), dirs)).toMatchObject({ lowerdirPlus: false, volatile: false });
    expect(overlayOptions('6.18.44', layers(1), { ...dirs, upper: `/${'u'.repeat(300)}` })).toMatchObject({ lowerdirPlus: false });
  });
});
