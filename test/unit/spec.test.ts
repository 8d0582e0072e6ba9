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
    [{ name: 'n'.repeat(129) }, /invalid --name "n+": .*\(from 2 to 128 characters\)/],
    [{ cpus: '0x10' }, /invalid --cpus "0x10": a number from 0.01 to 1024/],
    [{ cpus: ' 5' }, /invalid --cpus " 5"/],
    [{ cpus: 'Infinity' }, /invalid --cpus "Infinity"/],
    [{ pidsLimit: '1e3' }, /invalid --pids-limit "1e3"/],
    [{ pidsLimit: '+5' }, /invalid --pids-limit "\+5"/],
    [{ pidsLimit: '5 ' }, /invalid --pids-limit "5 "/],
    [{ pidsLimit: '-0' }, /invalid --pids-limit "-0"/],
    [{ pidsLimit: '4194305' }, /invalid --pids-limit "4194305": a whole number of processes from 1 to 4194304/],
    [{ memory: '1e3m' }, /invalid --memory "1e3m": a size from 6m to 8388608g/],
    [{ memory: ' 64m' }, /invalid --memory " 64m"/],
    [{ memory: '99999999999999999g' }, /invalid --memory "99999999999999999g": a size from 6m to 8388608g/],
    [{ memory: '64m', memorySwap: '0x10g' }, /invalid --memory-swap "0x10g"/],
    [{ workdir: 'relative' }, /must be an absolute path/],
    [{ env: ['=value'] }, /invalid --env/],
    [{ timings: 'xml' }, /invalid --timings "xml"/],
  ] as [RunFlags, RegExp][])('rejects %o', (flags, message) => {
    expect(() => build(flags)).toThrow(UsageError);
    expect(() => build(flags)).toThrow(message);
  });

  it('takes limits written plainly', () => {
    expect(build({ memory: '64m', memorySwap: '1.5g', cpus: '.5', pidsLimit: '4194304' }).limits).toEqual({
      memory: 64 * 1024 ** 2,
      memorySwap: 1.5 * 1024 ** 3,
      cpus: 0.5,
      pidsLimit: 4194304,
    });
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

describe('buildRunSpec: -P, --expose, stop signals', () => {
  const image = {
    name: 'registry.test/web:1', id: 'sha256:00', manifest: 'sha256:01', layers: ['/l'], argv: ['/bin/httpd'], env: [], workdir: '/', user: null,
    stopSignal: 'SIGQUIT', exposedPorts: ['80/tcp', '53/udp'],
  };
  const withImage = (flags: RunFlags) => buildRunSpec(flags, ['web'], { ...context, image });

  it("publishes the image's exposed ports and --expose ones with -P only, beside -p", () => {
    expect(withImage({}).ports).toEqual([]);
    expect(withImage({ publishAll: true, publish: ['8080:80'], expose: ['9000'] }).ports.map((m) => [m.hostPort, m.containerPort, m.protocol])).toEqual([
      [8080, 80, 'tcp'],
      [0, 53, 'udp'],
      [0, 9000, 'tcp'],
    ]);
    expect(build({ publishAll: true, expose: ['7/udp'] }).ports).toEqual([{ hostIp: null, hostPort: 0, containerPort: 7, protocol: 'udp' }]);
    expect(() => build({ publishAll: true, expose: ['80'], network: 'none' })).toThrow(/--publish-all needs --network bridge/);
  });

  it("stops with --stop-signal, else the image's StopSignal, else SIGTERM (null)", () => {
    expect(withImage({}).stopSignal).toBe('SIGQUIT');
    expect(withImage({ stopSignal: '2' }).stopSignal).toBe('SIGINT');
    expect(build({}).stopSignal).toBeNull();
    expect(() => build({ stopSignal: 'SIGNOPE' })).toThrow(/invalid --stop-signal "SIGNOPE"/);
    expect(() => buildRunSpec({}, ['web'], { ...context, image: { ...image, stopSignal: 'BOGUS' } })).toThrow(/invalid StopSignal of image registry.test\/web:1 "BOGUS"/);
  });
});
