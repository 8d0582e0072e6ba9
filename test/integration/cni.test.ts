// minictr-cni driven as a CNI runtime drives a plugin: a network configuration list, each plugin found by its type
// in CNI_PATH and executed with the CNI_* environment and its configuration (with runtimeConfig and prevResult) on
// stdin, in a network namespace the harness made with `ip netns add`, all inside a scratch host. The same
// assertions run against Debian's reference plugins (bridge + host-local + portmap): the result is the spec's, the
// host reaches the container's address and its published port (DNAT), CHECK notices a missing interface, DEL
// leaves no link, rule or lease naming the container, and DEL twice succeeds.

import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { isRoot, startClientAddressServer, useScratchHost, type Peer, type ScratchHost } from '../helpers/scratch-host.js';

const PLUGIN = fileURLToPath(new URL('../../dist/cni/main.js', import.meta.url));
/** Where the harness links minictr-cni, before the reference plugins' directory. */
const CNI_PATH = '/run/cni-bin:/usr/lib/cni';
/** The scratch host's address on its link to a LAN client, on which ports are published and reached. */
const HOST_ADDRESS = '192.0.2.1';

interface PluginOutput {
  exitCode: number;
  json: Record<string, unknown> | null;
  stderr: string;
}

interface NetworkList {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

/** Executes one plugin of `list` as a runtime does. */
async function execPlugin(host: ScratchHost, list: NetworkList, plugin: Record<string, unknown>, env: Record<string, string>, extra: Record<string, unknown>): Promise<PluginOutput> {
  const type = String(plugin.type);
  const path = CNI_PATH.split(':').map((dir) => `${dir}/${type}`);
  const found = (await host.exec(['sh', '-c', 'for p; do [ -x "$p" ] && { echo "$p"; exit 0; }; done; exit 1', 'sh', ...path])).stdout;
  const config = { cniVersion: list.cniVersion, name: list.name, ...plugin, ...extra };
  const result = await host.exec([String(found).trim()], { input: JSON.stringify(config), env: { CNI_PATH, ...env }, timeout: 20_000 });
  const stdout = String(result.stdout).trim();
  return { exitCode: result.exitCode ?? -1, json: stdout === '' ? null : (JSON.parse(stdout) as Record<string, unknown>), stderr: String(result.stderr) };
}

/**
 * A runtime's ADD, CHECK and DEL of a list: ADD in order, each plugin given the previous one's result; CHECK and
 * DEL with the ADD's result, DEL in reverse order. runtimeConfig goes to the plugins declaring the capability.
 */
class Runtime {
  private readonly results = new Map<string, Record<string, unknown>>();
  constructor(
    private readonly host: ScratchHost,
    readonly list: NetworkList,
  ) {}

  private async invoke(command: 'ADD' | 'CHECK' | 'DEL', containerId: string, netns: string, portMappings: object[]): Promise<PluginOutput> {
    const env = { CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1' };
    const plugins = command === 'DEL' ? [...this.list.plugins].reverse() : this.list.plugins;
    let prevResult = command === 'ADD' ? undefined : this.results.get(containerId);
    let last: PluginOutput = { exitCode: 0, json: null, stderr: '' };
    for (const plugin of plugins) {
      const capabilities = (plugin.capabilities ?? {}) as Record<string, boolean>;
      const extra = {
        ...(capabilities.portMappings ? { runtimeConfig: { portMappings } } : {}),
        ...(prevResult === undefined ? {} : { prevResult }),
      };
      last = await execPlugin(this.host, this.list, plugin, env, extra);
      if (last.exitCode !== 0 && command !== 'DEL') return last;
      if (command === 'ADD') prevResult = last.json ?? undefined;
    }
    if (command === 'ADD' && prevResult !== undefined) this.results.set(containerId, prevResult);
    return last;
  }

  add(containerId: string, netns: string, portMappings: object[] = []): Promise<PluginOutput> {
    return this.invoke('ADD', containerId, netns, portMappings);
  }
  check(containerId: string, netns: string, portMappings: object[] = []): Promise<PluginOutput> {
    return this.invoke('CHECK', containerId, netns, portMappings);
  }
  del(containerId: string, netns: string, portMappings: object[] = []): Promise<PluginOutput> {
    return this.invoke('DEL', containerId, netns, portMappings);
  }
}

const MINICTR: NetworkList = {
  cniVersion: '1.0.0',
  name: 'mcnet',
  plugins: [{ type: 'minictr-cni', bridge: 'cni-mc0', ipam: { subnet: '10.88.7.0/24' }, capabilities: { portMappings: true } }],
};
const REFERENCE: NetworkList = {
  cniVersion: '1.0.0',
  name: 'refnet',
  plugins: [
    { type: 'bridge', bridge: 'cni-ref0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.8.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

/** What the host holds that could name a container: links, the ruleset, leases of either kind, held host ports. */
async function hostState(host: ScratchHost, bridge: string): Promise<{ links: string[]; ruleset: string; leases: string[] }> {
  const links = (JSON.parse(await host.must(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((link) => link.ifname).filter((name) => name !== bridge);
  const leases = (await host.must(['sh', '-c', 'find /run/minictr/cni /run/minictr/ports /var/lib/cni -type f 2>/dev/null | grep -E "/[0-9.]+$|/attachments/|/ports/" || true'])).split('\n').filter(Boolean);
  return { links: links.sort(), ruleset: await host.must(['nft', 'list', 'ruleset']), leases: leases.sort() };
}

describe.skipIf(!isRoot)('minictr-cni as a CNI runtime runs it (needs root: skipped otherwise)', () => {
  const context = useScratchHost();
  const servers: ResultPromise[] = [];
  let lan: Peer | undefined;
  afterAll(() => {
    for (const server of servers) server.kill('SIGKILL');
  });

  const setUp = async () => {
    const { host } = context;
    await host.must(['sh', '-c', `mkdir -p /run/cni-bin && ln -sf ${PLUGIN} /run/cni-bin/minictr-cni`]);
    // A LAN client on a veth gives the scratch host a non-loopback address to publish on.
    lan ??= await host.addPeer('cnilan0', `${HOST_ADDRESS}/24`, '192.0.2.2/24');
  };

  const curl = (url: string) => context.host.exec(['curl', '-sS', '--max-time', '3', url]);

  for (const [label, list, bridge, hostPort] of [
    ['minictr-cni', MINICTR, 'cni-mc0', 8081],
    ['the reference plugins (bridge, host-local, portmap)', REFERENCE, 'cni-ref0', 8082],
  ] as const) {
    it(`ADD, CHECK and DEL as the spec says: ${label}`, async () => {
      const { host } = context;
      await setUp();
      const runtime = new Runtime(host, list);
      const id = `ctr${hostPort}`;
      const netns = `/run/netns/${id}`;
      await host.must(['ip', 'netns', 'add', id]);
      const ports = [{ hostPort, containerPort: 80, protocol: 'tcp' }];
      // A first ADD and DEL make the bridge (which stays, as the reference bridge plugin leaves its own): the
      // snapshot is taken once it exists.
      expect((await runtime.add(id, netns)).exitCode).toBe(0);
      expect((await runtime.del(id, netns)).exitCode).toBe(0);
      const before = await hostState(host, bridge);

      // 1. ADD: the spec's result, naming the interface in the sandbox and its address there
      const added = await runtime.add(id, netns, ports);
      expect(added.exitCode, added.stderr + JSON.stringify(added.json)).toBe(0);
      const result = added.json as { cniVersion: string; interfaces: { name: string; sandbox?: string; mac?: string }[]; ips: { address: string; gateway?: string; interface?: number }[] };
      expect(result.cniVersion).toBe('1.0.0');
      const ip = result.ips[0]!;
      expect(ip.address).toMatch(/^10\.88\.[78]\.\d+\/24$/);
      expect(result.interfaces[ip.interface!]).toMatchObject({ name: 'eth0', sandbox: netns });
      expect(result.interfaces[ip.interface!]!.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const address = ip.address.split('/')[0]!;
      expect(await host.must(['nsenter', `--net=${netns}`, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'])).toContain(` ${ip.address} `);
      expect(await host.must(['nsenter', `--net=${netns}`, 'ip', 'route', 'show', 'default'])).toContain(`via ${ip.gateway}`);

      // 2. the host reaches the container's address, and its published port through DNAT
      await host.must(['nsenter', `--net=${netns}`, 'ip', 'link', 'set', 'lo', 'up']);
      const { server } = await startClientAddressServer((argv) => host.exec(['nsenter', `--net=${netns}`, ...argv]), '0.0.0.0', 80);
      servers.push(server);
      const direct = await curl(`http://${address}:80/`);
      expect(direct.exitCode, String(direct.stderr)).toBe(0);
      const published = await curl(`http://${HOST_ADDRESS}:${hostPort}/`);
      expect(published.exitCode, String(published.stderr)).toBe(0);
      const fromLan = await lan!.exec(['curl', '-sS', '--max-time', '3', `http://${HOST_ADDRESS}:${hostPort}/`]);
      expect(fromLan.exitCode, String(fromLan.stderr)).toBe(0);
      expect(String(fromLan.stdout)).toBe('192.0.2.2');
      if (list === MINICTR) {
        // minictr's own commands share the port registry and maps: gc leaves the plugin's port alone, and a run
        // cannot take it
        expect((await host.minictr(['gc'])).exitCode).toBe(0);
        expect((await curl(`http://${HOST_ADDRESS}:${hostPort}/`)).exitCode).toBe(0);
        const taken = await host.minictr(['run', '--rm', '-p', `${hostPort}:80`, '/bin/true']);
        expect(taken.exitCode).toBe(125);
        expect(taken.stderr).toMatch(new RegExp(`port ${hostPort}/tcp is already published by container cni:mcnet/`));
      }

      // 3. CHECK passes, ADD twice is refused and leaves the attachment working. CHECK is given no port mappings:
      // Debian 12's portmap (1.1.1) then fails looking for ip6tables rules it never made for an IPv4-only container
      // (containernetworking/plugins#819).
      const checkedOk = await runtime.check(id, netns);
      expect(checkedOk.exitCode, JSON.stringify(checkedOk)).toBe(0);
      const again = await runtime.add(id, netns, ports);
      expect(again.exitCode).not.toBe(0);
      expect(again.json).toMatchObject({ code: expect.any(Number), msg: expect.any(String) });
      expect((await curl(`http://${address}:80/`)).exitCode).toBe(0);

      // 4. DEL: nothing names the container any more, the port is closed; DEL again succeeds
      expect((await runtime.del(id, netns, ports)).exitCode).toBe(0);
      server.kill('SIGKILL');
      const after = await hostState(host, bridge);
      expect(after.links).toEqual(before.links);
      expect(after.leases).toEqual(before.leases);
      expect(after.ruleset).not.toContain(address);
      expect((await curl(`http://${HOST_ADDRESS}:${hostPort}/`)).exitCode).not.toBe(0);
      expect((await runtime.del(id, netns, ports)).exitCode).toBe(0);

      // 5. CHECK notices an interface taken away behind the plugin's back; DEL still cleans up
      expect((await runtime.add(id, netns)).exitCode).toBe(0);
      await host.must(['nsenter', `--net=${netns}`, 'ip', 'link', 'del', 'eth0']);
      const checked = await runtime.check(id, netns);
      expect(checked.exitCode).not.toBe(0);
      expect(checked.json).toMatchObject({ code: expect.any(Number), msg: expect.any(String) });
      expect((await runtime.del(id, netns)).exitCode).toBe(0);
      expect(await hostState(host, bridge)).toMatchObject({ links: before.links, leases: before.leases });
      await host.must(['ip', 'netns', 'del', id]);
    });
  }

  it('answers VERSION, refuses bad input in the spec error format, and DEL of an unknown container succeeds', async () => {
    const { host } = context;
    await setUp();
    const plugin = MINICTR.plugins[0]!;
    const env = { CNI_CONTAINERID: 'ctrbad', CNI_NETNS: '/run/netns/none', CNI_IFNAME: 'eth0' };
    const version = await execPlugin(host, MINICTR, plugin, { ...env, CNI_COMMAND: 'VERSION' }, {});
    expect(version).toMatchObject({ exitCode: 0, json: { cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] } });
    const before = await hostState(host, 'cni-mc0');
    const cases: [Record<string, string>, Record<string, unknown>, number, RegExp][] = [
      [{ ...env, CNI_COMMAND: 'ADD' }, { cniVersion: '0.2.0' }, 1, /CNI version 0\.2\.0 is not supported/],
      [{ ...env, CNI_COMMAND: 'ADD' }, { ipam: { subnet: '10.88.7.1/24' } }, 7, /"ipam\.subnet": invalid subnet/],
      [{ ...env, CNI_COMMAND: 'ADD' }, { bridge: 'minictr0' }, 7, /bridge minictr0 is one of minictr's own/],
      [{ ...env, CNI_COMMAND: 'ADD' }, { ipam: { subnet: '10.0.0.0/16' } }, 7, /overlaps 10\.0\.0\.0\/24 of minictr's default network/],
      [{ ...env, CNI_COMMAND: 'ADD' }, { ipam: { type: 'host-local', subnet: '10.88.9.0/24' } }, 2, /"ipam\.type" is not supported/],
      [{ ...env, CNI_COMMAND: 'ADD' }, { runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80 }] } }, 7, /portMappings\[0\]\.hostPort/],
      [{ ...env, CNI_COMMAND: 'ADD', CNI_CONTAINERID: '../x' }, {}, 4, /CNI_CONTAINERID is invalid/],
      [{ ...env, CNI_COMMAND: 'ADD', CNI_NETNS: '' }, {}, 4, /CNI_NETNS is missing/],
      [{ ...env, CNI_COMMAND: 'FROB' }, {}, 4, /CNI_COMMAND "FROB"/],
    ];
    for (const [caseEnv, override, code, msg] of cases) {
      const output = await execPlugin(host, MINICTR, { ...plugin, ...override }, caseEnv, {});
      expect(output.exitCode, JSON.stringify(output)).toBe(1);
      expect(output.json).toMatchObject({ code });
      expect(String(output.json?.msg)).toMatch(msg);
    }
    // A config naming an existing link that is no bridge changes nothing of it: no table names it.
    await host.must(['ip', 'link', 'add', 'cnidummy0', 'type', 'veth', 'peer', 'name', 'cnidummy1']);
    try {
      const notBridge = await execPlugin(host, MINICTR, { ...plugin, bridge: 'cnidummy0' }, { ...env, CNI_COMMAND: 'ADD' }, {});
      expect(notBridge).toMatchObject({ exitCode: 1, json: { code: 7 } });
      expect(String(notBridge.json?.msg)).toMatch(/"bridge" cnidummy0 is an existing veth link, not a bridge/);
      expect(await host.must(['nft', 'list', 'ruleset'])).not.toMatch(/cnidummy0/);
    } finally {
      await host.must(['ip', 'link', 'del', 'cnidummy0']);
    }
        // A failure midway (no such namespace: the veth cannot be made) undoes the lease, the port and the record.
    const midway = await execPlugin(host, MINICTR, plugin, { ...env, CNI_COMMAND: 'ADD' }, { runtimeConfig: { portMappings: [{ hostPort: 8089, containerPort: 80 }] } });
    expect(midway).toMatchObject({ exitCode: 1, json: { code: 999 } });
    expect(String(midway.json?.msg)).toMatch(/^create veth mk[0-9a-f]{12} on cni-mc0 \(eth0 in \/run\/netns\/none\): /);
    expect(await hostState(host, 'cni-mc0')).toMatchObject({ links: before.links, leases: before.leases });
    const garbled = await host.exec([PLUGIN], { input: '{not json', env: { ...env, CNI_COMMAND: 'ADD' } });
    expect(garbled.exitCode).toBe(1);
    expect(JSON.parse(String(garbled.stdout))).toMatchObject({ code: 6 });
    const deleted = await execPlugin(host, MINICTR, plugin, { ...env, CNI_COMMAND: 'DEL', CNI_NETNS: '' }, {});
    expect(deleted).toMatchObject({ exitCode: 0, json: null });
    // The bridge and its table may be new (the failed ADD made them, as a successful one would), nothing else.
    const after = await hostState(host, 'cni-mc0');
    expect(after).toMatchObject({ links: before.links, leases: before.leases });
    expect(after.ruleset).not.toMatch(/8089/);
  });

  it('GC (1.1) deletes the attachments the runtime no longer names; STATUS answers ready', async () => {
    const { host } = context;
    await setUp();
    const list = { ...MINICTR, cniVersion: '1.1.0' };
    const plugin = list.plugins[0]!;
    const before = await hostState(host, 'cni-mc0');
    for (const id of ['gckeep', 'gcdrop']) {
      await host.must(['ip', 'netns', 'add', id]);
      const added = await execPlugin(host, list, plugin, { CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${id}`, CNI_IFNAME: 'eth0' }, {});
      expect(added.exitCode, JSON.stringify(added)).toBe(0);
    }
    expect(await execPlugin(host, list, plugin, { CNI_COMMAND: 'STATUS' }, {})).toMatchObject({ exitCode: 0, json: null });
    const collected = await execPlugin(host, list, plugin, { CNI_COMMAND: 'GC' }, { 'cni.dev/valid-attachments': [{ containerID: 'gckeep', ifname: 'eth0' }] });
    expect(collected).toMatchObject({ exitCode: 0, json: null });
    const check = (id: string) => execPlugin(host, list, plugin, { CNI_COMMAND: 'CHECK', CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${id}`, CNI_IFNAME: 'eth0' }, {});
    expect((await check('gckeep')).exitCode).toBe(0);
    expect((await check('gcdrop')).json).toMatchObject({ code: 101 });
    expect(await host.must(['nsenter', '--net=/run/netns/gcdrop', 'ip', '-o', 'link'])).not.toContain('eth0');
    await execPlugin(host, list, plugin, { CNI_COMMAND: 'GC' }, { 'cni.dev/valid-attachments': [] });
    expect(await hostState(host, 'cni-mc0')).toMatchObject({ links: before.links, leases: before.leases });
    for (const id of ['gckeep', 'gcdrop']) await host.must(['ip', 'netns', 'del', id]);
  });

  // Podman 4.3's CNI backend as the runtime: its configuration and storage under the scratch host's /run and
  // /var/lib; runc, since crun refuses this machine's hybrid cgroups, and runc needs cgroups: cgroupfs is the real
  // host's, so they go under a parent named for this test, removed at the end; limits (files, processes) within the
  // test's own; the built-in busybox tree as the container's root (no image to pull).
  it.skipIf(!existsSync('/usr/bin/podman'))('serves Podman (network_backend "cni"): podman run --network NAME -p reaches the container', async () => {
    const { host } = context;
    await setUp();
    const conflist = { cniVersion: '0.4.0', name: 'mcpod', plugins: [{ type: 'minictr-cni', bridge: 'cni-mcpod', ipam: { subnet: '10.88.10.0/24' }, capabilities: { portMappings: true } }] };
    const files: [string, string][] = [
      ['/run/podman-cni/mcpod.conflist', JSON.stringify(conflist)],
      [
        '/run/podman-conf/containers.conf',
        '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n[network]\nnetwork_backend = "cni"\n' +
          'cni_plugin_dirs = ["/run/cni-bin", "/usr/lib/cni"]\nnetwork_config_dir = "/run/podman-cni"\n',
      ],
      ['/run/podman-conf/storage.conf', '[storage]\ndriver = "vfs"\nrunroot = "/run/podman-storage"\ngraphroot = "/var/lib/podman-storage"\n'],
    ];
    for (const [path, text] of files) await host.must(['sh', '-c', 'mkdir -p "$(dirname "$1")" && printf %s "$2" > "$1"', 'sh', path, text]);
    const env = { CONTAINERS_CONF: '/run/podman-conf/containers.conf', CONTAINERS_STORAGE_CONF: '/run/podman-conf/storage.conf' };
    const podman = async (args: string[]) => {
      const result = await host.exec(['podman', '--runtime', 'runc', ...args], { env, timeout: 60_000 });
      expect(result.exitCode, `podman ${args.join(' ')}: ${String(result.stderr)}`).toBe(0);
      return String(result.stdout).trim();
    };
    // A copy of the busybox tree: podman writes /etc/hosts, /etc/hostname and /etc/resolv.conf into a --rootfs.
    const rootfs = join(mkdtempSync(join(tmpdir(), 'minictr-cni-podman-')), 'rootfs');
    cpSync(fileURLToPath(new URL('../../rootfs/image', import.meta.url)), rootfs, { recursive: true, verbatimSymlinks: true });
    const cgroupParent = `minictr-cni-test-${process.pid}`;
    let address = '';
    try {
      await podman(['run', '-d', '--name', 'web', '--cgroup-parent', `/${cgroupParent}`, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'mcpod', '-p', '8090:80', '--rootfs', rootfs, '/usr/sbin/httpd', '-f', '-p', '80', '-h', '/etc']);
      address = await podman(['inspect', 'web', '--format', '{{.NetworkSettings.Networks.mcpod.IPAddress}}']);
      expect(address).toMatch(/^10\.88\.10\.\d+$/);
      const fromLan = await lan!.exec(['curl', '-sS', '--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}', `http://${HOST_ADDRESS}:8090/hostname`]);
      expect(String(fromLan.stdout), String(fromLan.stderr)).toBe('200');
    } finally {
      await podman(['rm', '-f', '-t', '0', '--ignore', 'web']);
      rmSync(join(rootfs, '..'), { recursive: true, force: true });
      // runc's cgroups, and the plain directories it makes where a controller is not mounted (a tmpfs here)
      const removal = 'for d in /sys/fs/cgroup/*/"$1"; do [ -d "$d" ] || continue; ' +
        'if [ "$(stat -f -c %T "$d")" = tmpfs ]; then rm -r "$d"; else find "$d" -depth -type d -exec rmdir {} +; fi; done';
      await host.must(['sh', '-c', removal, 'sh', cgroupParent]);
    }
    const links = await host.must(['ip', '-o', 'link', 'show']);
    expect(links).not.toMatch(/ mk[0-9a-f]{12}@/);
    expect(await host.must(['nft', 'list', 'ruleset'])).not.toContain(address);
    expect(await host.must(['sh', '-c', 'ls /run/minictr/cni/mcpod/attachments /run/minictr/cni/mcpod/leases 2>/dev/null || true'])).not.toMatch(/json|10\.88/);
  });
});
