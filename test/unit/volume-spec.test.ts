import { describe, expect, it } from 'vitest';
import { parseMountFlag, parseMountFlags, parseTmpfsFlag, parseVolumeFlag } from '../../src/volume/spec.js';

const CWD = '/home/user/app';

describe('-v', () => {
  it('reads a host path, a named volume and an anonymous volume as Docker does', () => {
    expect(parseVolumeFlag('/srv/data:/data', CWD)).toEqual({ type: 'bind', source: '/srv/data', target: '/data', readOnly: false, createSource: true });
    expect(parseVolumeFlag('./conf:/etc/app/:ro', CWD)).toEqual({ type: 'bind', source: '/home/user/app/conf', target: '/etc/app', readOnly: true, createSource: true });
    expect(parseVolumeFlag('cache:/var/cache:rw', CWD)).toEqual({ type: 'volume', name: 'cache', target: '/var/cache', readOnly: false, noCopy: false });
    expect(parseVolumeFlag('/scratch', CWD)).toEqual({ type: 'volume', name: null, target: '/scratch', readOnly: false, noCopy: false });
  });

  it.each([
    ['/a:data', /container path "data" must be absolute/],
    ['/a:/x/../etc', /contains "\.\."/],
    ['/a:/', /cannot mount over the container's root/],
    ['/a:/proc/sys', /under \/proc, which minictr mounts itself/],
    ['/a:/dev', /under \/dev/],
    ['/a:/b:z', /option "z" is not supported/],
    ['/a:/b:ro:x', /expected HOST-PATH/],
    [':/b', /expected HOST-PATH/],
    ['-bad:/b', /volume name "-bad"/],
    ['x:/b', /volume name "x"/],
  ])('refuses -v %s', (value, message) => {
    expect(() => parseVolumeFlag(value, CWD)).toThrow(message);
  });
});

describe('--mount', () => {
  it("reads Docker's keys and their aliases", () => {
    expect(parseMountFlag('type=bind,src=/srv,dst=/data,readonly', CWD)).toEqual({ type: 'bind', source: '/srv', target: '/data', readOnly: true, createSource: false });
    expect(parseMountFlag('source=db,target=/var/lib/db,volume-nocopy=true', CWD)).toEqual({ type: 'volume', name: 'db', target: '/var/lib/db', readOnly: false, noCopy: true });
    expect(parseMountFlag('type=volume,target=/x,ro=false', CWD)).toEqual({ type: 'volume', name: null, target: '/x', readOnly: false, noCopy: false });
    expect(parseMountFlag('type=tmpfs,destination=/run/app,tmpfs-size=64m,tmpfs-mode=1770', CWD)).toEqual({ type: 'tmpfs', target: '/run/app', readOnly: false, size: 64 * 1024 ** 2, mode: 0o1770 });
  });

  it.each([
    ['type=nfs,target=/x', /type "nfs" is not bind, volume or tmpfs/],
    ['type=bind,target=/x', /source is required for type=bind/],
    ['type=bind,source=rel,target=/x', /must be an absolute path/],
    ['type=bind,source=/a', /target is required/],
    ['type=tmpfs,source=/a,target=/x', /"source" is not supported for type=tmpfs/],
    ['type=bind,source=/a,target=/x,bind-propagation=shared', /"bind-propagation" is not supported/],
    ['type=tmpfs,target=/x,tmpfs-size=lots', /tmpfs size "lots"/],
    ['type=tmpfs,target=/x,tmpfs-size=99999999999999999999g', /tmpfs size "99999999999999999999g"/],
    ['type=tmpfs,target=/x,tmpfs-mode=999', /tmpfs mode "999"/],
    ['type=volume,target=/x,readonly=maybe', /readonly takes true or false/],
    ['target=/x,dst=/y', /target is given twice/],
  ])('refuses --mount %s', (value, message) => {
    expect(() => parseMountFlag(value, CWD)).toThrow(message);
  });
});

describe('--tmpfs', () => {
  it('reads size, mode, ro', () => {
    expect(parseTmpfsFlag('/run')).toEqual({ type: 'tmpfs', target: '/run', readOnly: false, size: null, mode: null });
    expect(parseTmpfsFlag('/cache:size=1m,mode=700,ro')).toEqual({ type: 'tmpfs', target: '/cache', readOnly: true, size: 1024 ** 2, mode: 0o700 });
  });

  it('refuses options it does not know', () => {
    expect(() => parseTmpfsFlag('/run:exec')).toThrow(/option "exec" is not supported/);
    expect(() => parseTmpfsFlag('/run:size=1m,exec,suid')).toThrow(/option "exec" is not supported/);
    expect(() => parseTmpfsFlag('/run:size=1m,,dev')).toThrow(/option "" is not supported/);
  });

  it('refuses a size the kernel cannot be given as a number (it would be written 1e+29)', () => {
    expect(() => parseTmpfsFlag('/run:size=99999999999999999999g')).toThrow(/tmpfs size "99999999999999999999g" is not a size/);
  });
});

describe('all mount flags together', () => {
  it('orders parents before the paths beneath them', () => {
    const mounts = parseMountFlags({ volume: ['/h/b:/data/cache'], tmpfs: ['/data'], mount: ['type=volume,target=/a/b/c'] }, CWD);
    expect(mounts.map((mount) => mount.target)).toEqual(['/data', '/data/cache', '/a/b/c']);
  });

  it('refuses one container path given twice, whatever the flags', () => {
    expect(() => parseMountFlags({ volume: ['/a:/data'], tmpfs: ['/data/'] }, CWD)).toThrow(/duplicate mount point: \/data/);
  });
});
