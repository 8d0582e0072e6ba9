// -P and `minictr port` against the real kernel: an image exposing 80/tcp, built offline (umoci) and pulled from a
// registry on the scratch host's loopback, published on host ports the run chooses from the scratch host's own
// ephemeral range and reached with curl on the bridge address; --expose, -p CONTAINER_PORT, two containers never
// given one port (one after the other, or at once), a port a host process listens on skipped, the image's StopSignal sent by `stop`; and nothing left
// behind once the containers are gone.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, REGISTRY, TestImage, TestRegistry } from '../helpers/registry.js';
import { isRoot, startClientAddressServer, useScratchHost, type Snapshot } from '../helpers/scratch-host.js';

const PAGE = 'Hello from a minictr container';
const RANGE = '/proc/sys/net/ipv4/ip_local_port_range';

describe.skipIf(!isRoot)('run -P, port (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let registry: TestRegistry;
  let image: TestImage;
  const web = `${REGISTRY}/demo/web:v1`;
  const minictr = (...args: string[]) => scratch.host.minictr(args);
  const curl = async (port: number) => (await scratch.host.exec(['curl', '-sS', '--max-time', '5', `http://10.0.0.1:${port}/`])).stdout;

  async function detached(...args: string[]): Promise<string> {
    const result = await minictr('run', '-d', ...args);
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout.trim();
  }

  /** `port`'s lines as [private, host port] pairs. */
  async function ports(id: string): Promise<[string, number][]> {
    const result = await minictr('port', id);
    expect(result.exitCode, result.stderr).toBe(0);
    return result.stdout.split('\n').map((line) => {
      const match = /^(\d+\/(?:tcp|udp)) -> 0\.0\.0\.0:(\d+)$/.exec(line);
      expect(match, line).not.toBeNull();
      return [match![1]!, Number(match![2])];
    });
  }

  /** The scratch host as it was before the test, less the image store (persistent data). */
  async function expectNothingLeft(before: Snapshot): Promise<void> {
    const withoutStore = (paths: string[]) => paths.filter((path) => !/^(blobs|images|layers|tmp)(\/|$)/.test(path));
    const after = await scratch.host.settle(before);
    expect({ ...after, data: withoutStore(after.data) }).toEqual({ ...before, data: withoutStore(before.data) });
  }

  beforeAll(async () => {
    registry = await TestRegistry.start(scratch.host);
    image = await TestImage.build('v1', BUSYBOX_ROOTFS, [
      '--config.exposedports', '80/tcp',
      '--config.entrypoint', 'httpd', '--config.cmd', '-f', '--config.cmd', '-p', '--config.cmd', '80', '--config.cmd', '-h', '--config.cmd', '/www',
      '--config.stopsignal', 'SIGUSR1',
    ]);
    await image.push(scratch.host, 'v1', 'demo/web');
    expect((await minictr('pull', '-q', web)).exitCode).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    image?.remove();
  });

  it("publishes the image's exposed port on a host port of the ephemeral range; port, ps and inspect show it", async () => {
    const [first, last] = (await scratch.host.must(['cat', RANGE])).trim().split(/\s+/).map(Number) as [number, number];
    const one = await detached('-P', web);
    const two = await detached('-P', web);
    const [[privateOne, portOne]] = await ports(one);
    const [[privateTwo, portTwo]] = await ports(two);
    expect([privateOne, privateTwo]).toEqual(['80/tcp', '80/tcp']);
    expect(portOne).not.toBe(portTwo);
    for (const port of [portOne, portTwo]) {
      expect(port).toBeGreaterThanOrEqual(first);
      expect(port).toBeLessThanOrEqual(last);
      expect(await curl(port)).toContain(PAGE);
    }
    expect((await minictr('port', one, '80')).stdout).toBe(`0.0.0.0:${portOne}`);
    expect((await minictr('port', one, '80/tcp')).stdout).toBe(`0.0.0.0:${portOne}`);
    const none = await minictr('port', one, '81');
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toBe(`minictr: no public port '81/tcp' published for ${one}`);
    expect((await minictr('ps')).stdout).toContain(`0.0.0.0:${portOne}->80/tcp`);
    const [inspected] = JSON.parse((await minictr('inspect', one)).stdout) as [{ ports: { hostPort: number; containerPort: number }[] }];
    expect(inspected.ports).toMatchObject([{ hostPort: portOne, containerPort: 80 }]);
    expect((await minictr('rm', '-f', one, two)).exitCode).toBe(0);
    await expectNothingLeft(scratch.before);
  });

  it('publishes --expose ports with -P, and -p CONTAINER_PORT on a host port it chooses', async () => {
    const id = await detached('-p', '80', '--expose', '8080', '--expose', '5353/udp', '-P', '/bin/sh', '-c', 'httpd -p 8080 -h /www; exec httpd -f -p 80 -h /www');
    const published = await ports(id);
    expect(published.map(([port]) => port)).toEqual(['80/tcp', '5353/udp', '8080/tcp']);
    expect(new Set(published.map(([, port]) => port)).size).toBe(3);
    expect(await curl(published[0]![1])).toContain(PAGE);
    expect(await curl(published[2]![1])).toContain(PAGE);
    // --expose alone publishes nothing, as in Docker.
    const quiet = await detached('--expose', '80', '/bin/sleep', '60');
    expect((await minictr('port', quiet)).stdout).toBe('');
    expect((await minictr('rm', '-f', id, quiet)).exitCode).toBe(0);
    await expectNothingLeft(scratch.before);
  });

  it('skips a port a host process listens on, and says so when the range has no free port left', async () => {
    const range = (await scratch.host.must(['cat', RANGE])).trim();
    await scratch.host.must(['sh', '-c', `echo 40000 40001 > ${RANGE}`]);
    const { server } = await startClientAddressServer((argv) => scratch.host.exec(argv), '0.0.0.0', 40000);
    try {
      const id = await detached('-P', web);
      expect(await ports(id)).toEqual([['80/tcp', 40001]]);
      const full = await minictr('run', '-d', '-P', web);
      expect(full.exitCode).toBe(125);
      expect(full.stderr).toBe('minictr: cannot publish 80/tcp: no free host port in the ephemeral range 40000-40001');
      expect((await minictr('rm', '-f', id)).exitCode).toBe(0);
    } finally {
      server.kill('SIGKILL');
      await server;
      await scratch.host.must(['sh', '-c', `echo ${range.replace(/\s+/, ' ')} > ${RANGE}`]);
    }
    await expectNothingLeft(scratch.before);
  });

  it('gives two runs started at once in a range of two ports one port each: the registry decides, not the bind', async () => {
    const range = (await scratch.host.must(['cat', RANGE])).trim();
    await scratch.host.must(['sh', '-c', `echo 40010 40011 > ${RANGE}`]);
    try {
      const ids = await Promise.all([detached('-P', web), detached('-P', web)]);
      const chosen = await Promise.all(ids.map(ports));
      expect(chosen.map(([[, port]]) => port).sort()).toEqual([40010, 40011]);
      for (const [[, port]] of chosen) expect(await curl(port)).toContain(PAGE);
      expect((await minictr('rm', '-f', ...ids)).exitCode).toBe(0);
    } finally {
      await scratch.host.must(['sh', '-c', `echo ${range.replace(/\s+/, ' ')} > ${RANGE}`]);
    }
    await expectNothingLeft(scratch.before);
  });

  it("stop sends the image's StopSignal first (--stop-signal overrides it)", async () => {
    const script = 'trap "exit 3" USR1; trap "exit 4" INT; while :; do sleep 0.1; done';
    const image = await detached('--entrypoint', '/bin/sh', web, '-c', script);
    const flag = await detached('--stop-signal', 'INT', '--entrypoint', '/bin/sh', web, '-c', script);
    const started = Date.now();
    expect((await minictr('stop', '-t', '15', image, flag)).exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(8_000); // SIGTERM, which the shell as PID 1 ignores, would wait 15 s
    const [one, two] = JSON.parse((await minictr('inspect', image, flag)).stdout) as [{ exitCode: number }, { exitCode: number }];
    expect([one.exitCode, two.exitCode]).toEqual([3, 4]);
    expect((await minictr('rm', image, flag)).exitCode).toBe(0);
    await expectNothingLeft(scratch.before);
  });

  it('refuses bad input with exit 125, naming the flag, and creates nothing', async () => {
    for (const [args, message] of [
      [['-P', '--network', 'none', web], '--publish-all needs --network bridge'],
      [['--expose', 'http', '-P', '/bin/true'], 'invalid --expose "http"'],
      [['-p', '80/sctp', '/bin/true'], 'protocol must be tcp or udp'],
      [['--stop-signal', 'NOPE', '/bin/true'], 'invalid --stop-signal "NOPE"'],
    ] as const) {
      const result = await minictr('run', '--rm', ...args);
      expect(result.exitCode, result.stderr).toBe(125);
      expect(result.stderr).toContain(message);
    }
    const missing = await minictr('port', 'nosuchcontainer');
    expect(missing.exitCode).toBe(1);
    expect((await minictr('port', 'nosuchcontainer', '80/sctp')).exitCode).toBe(125);
    await expectNothingLeft(scratch.before);
  });
});
