import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { buildRunSpec, containerEnv, DEFAULT_PATH, type RunFlags } from '../../src/container/spec.js';
import { Subnet } from '../../src/network/subnet.js';

const context = { defaultRootfs: '/opt/rootfs', subnet: Subnet.parse('10.0.0.0/24'), hostEnv: { TOKEN: 'abc' }, cwd: '/home/me' };
const build = (flags: RunFlags, command: string[] = ['/bin/sh']) => buildRunSpec(flags, command, context);

describe('buildRunSpec', () => {
  it('applies Docker-like defaults', () => {
    const spec = build({});
    expect(spec).toMatchObject({
      argv: ['/bin/sh'],
      network: 'bridge',
      requestedIp: null,
      rootfs: '/opt/rootfs',
      hostname: null,
      name: null,
      env: [],
      workdir: '/',
      explain: false,
      timings: null,
    });
    expect(build({ timings: true }).timings).toBe('text');
    expect(build({ timings: 'json' }).timings).toBe('json');
  });

  it('accepts a valid --ip and resolves a relative --rootfs against the working directory', () => {
    const spec = build({ ip: '10.0.0.7', rootfs: 'images/alpine' });
    expect(spec.requestedIp).toBe(0x0a000007);
    expect(spec.rootfs).toBe('/home/me/images/alpine');
  });

  it.each([
    [{ ip: '10.0.0' }, /not an IPv4 address/],
    [{ ip: '10.0.1.2' }, /outside the container subnet/],
    [{ ip: '10.0.0.1' }, /gateway/],
    [{ ip: '10.0.0.3', network: 'host' }, /--ip cannot be used with --network host/],
    [{ network: 'macvlan' }, /invalid --network "macvlan"/],
    [{ hostname: 'under_score' }, /invalid --hostname/],
    [{ hostname: `${'a'.repeat(64)}` }, /invalid --hostname/],
    [{ name: '.hidden' }, /invalid --name/],
    [{ workdir: 'relative' }, /must be an absolute path/],
    [{ env: ['=value'] }, /invalid --env/],
    [{ rootfs: '/images/a,b' }, /overlayfs cannot take a path/],
    [{ timings: 'xml' }, /invalid --timings "xml"/],
  ] as [RunFlags, RegExp][])('rejects %o', (flags, message) => {
    expect(() => build(flags)).toThrow(UsageError);
    expect(() => build(flags)).toThrow(message);
  });

  it('rejects an empty command and NUL bytes in arguments', () => {
    expect(() => build({}, [])).toThrow(/no command given/);
    expect(() => build({}, ['/bin/echo', 'a\0b'])).toThrow(/NUL/);
  });

  it('copies -e KEY from the host environment and drops it when unset', () => {
    expect(build({ env: ['A=1', 'TOKEN', 'MISSING', 'B=x=y'] }).env).toEqual(['A=1', 'TOKEN=abc', 'B=x=y']);
  });
});

describe('containerEnv', () => {
  it('adds PATH, HOSTNAME and HOME unless the user set them', () => {
    expect(containerEnv(build({ env: ['A=1'] }), 'box')).toEqual([`PATH=${DEFAULT_PATH}`, 'HOSTNAME=box', 'HOME=/root', 'A=1']);
    expect(containerEnv(build({ env: ['PATH=/bin', 'HOME=/'] }), 'box')).toEqual(['HOSTNAME=box', 'PATH=/bin', 'HOME=/']);
  });
});

describe('shellQuote', () => {
  it('leaves plain words alone and single-quotes the rest, quotes included', async () => {
    const { shellQuote } = await import('../../src/container/dry-run.js');
    expect(shellQuote('/bin/sh')).toBe('/bin/sh');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's $HOME")).toBe("'it'\\''s $HOME'");
    expect(shellQuote('')).toBe("''");
  });
});
