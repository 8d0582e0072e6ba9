// `minictr run` against the real kernel, inside a scratch host (test/helpers/scratch-host.ts): namespaces, PID 1,
// hostname, eth0 and routes, the gateway, container to container, NAT to an upstream namespace, exit codes and
// signals, an interactive shell on stdin, network modes, concurrency, and that nothing is left behind.

import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerPidOf, isRoot, ScratchHost, waitUntilGone, type Result, type Snapshot } from '../helpers/scratch-host.js';

function explain(result: Result): string {
  return `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

function expectExit(result: Result, code: number): void {
  expect(result.exitCode, explain(result)).toBe(code);
}

describe.skipIf(!isRoot)('minictr run (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let before: Snapshot;

  beforeAll(async () => {
    host = await ScratchHost.create();
    // A first run creates the shared objects (bridge, nftables table, ip_forward); every later run must leave the
    // host exactly as this snapshot shows it.
    expectExit(await host.minictr(['run', '--rm', '/bin/true']), 0);
    before = await host.settle(await host.snapshot());
  });

  afterAll(async () => {
    await host?.dispose();
  });

  async function expectHostUnchanged(): Promise<void> {
    expect(await host.settle(before)).toEqual(before);
  }

  it('creates the shared bridge, NAT rule and forwarding, and no per-container leftovers', async () => {
    expect(before.links).toContain('minictr0 ');
    expect(before.addresses).toContain('minictr0 10.0.0.1/24');
    expect(before.ruleset).toMatch(/ip saddr 10\.0\.0\.0\/24 oifname != "minictr0" masquerade/);
    expect(before.ipForward).toBe('1');
    expect(before.links.filter((l) => l.startsWith('mc'))).toEqual([]);
    expect(before.state).toEqual(['containers', 'ip_forward.orig', 'leases', 'names', 'nft-base', 'ports']);
  });

  it('runs the command in new net, pid, mnt, uts and ipc namespaces, as PID 1', async () => {
    const namespaces = ['net', 'pid', 'mnt', 'uts', 'ipc'];
    const script = `echo $$; for ns in ${namespaces.join(' ')}; do readlink /proc/self/ns/$ns; done`;
    const result = await host.minictr(['run', '--rm', '/bin/sh', '-c', script]);
    expectExit(result, 0);
    const [pid, ...inside] = result.stdout.trim().split('\n');
    expect(pid).toBe('1');
    namespaces.forEach((ns, i) => {
      expect(inside[i]).toMatch(new RegExp(`^${ns}:\\[\\d+\\]$`));
      expect(inside[i]).not.toBe(readlinkSync(`/proc/${host.pid}/ns/${ns}`));
    });
    await expectHostUnchanged();
  });

  it('sets the hostname: the short id by default, --hostname when given, in /etc/hostname and /etc/hosts', async () => {
    const byDefault = await host.minictr(['run', '--rm', '/bin/hostname']);
    expectExit(byDefault, 0);
    expect(byDefault.stdout.trim()).toMatch(/^[0-9a-f]{12}$/);

    const named = await host.minictr(['run', '--rm', '-h', 'web1', '--ip', '10.0.0.40', '/bin/sh', '-c', 'hostname; cat /etc/hostname /etc/hosts']);
    expectExit(named, 0);
    const lines = named.stdout.split('\n');
    expect(lines[0]).toBe('web1');
    expect(lines[1]).toBe('web1');
    expect(named.stdout).toMatch(/^10\.0\.0\.40\tweb1$/m);
    expect(named.stdout).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    await expectHostUnchanged();
  });

  it('gives eth0 the requested address and a default route through the bridge, and reaches the gateway', async () => {
    const result = await host.minictr([
      'run', '--rm', '--ip', '10.0.0.2', '/bin/sh', '-c', 'ip -4 -o addr show eth0; ip route; ping -c 1 -W 2 10.0.0.1',
    ]);
    expectExit(result, 0);
    expect(result.stdout).toMatch(/eth0\s+inet 10\.0\.0\.2\/24/);
    expect(result.stdout).toMatch(/^default via 10\.0\.0\.1 dev eth0/m);
    expect(result.stdout).toMatch(/1 packets transmitted, 1 packets received/);
    await expectHostUnchanged();
  });

  it('lets one container reach another over the bridge', async () => {
    const server = host.start(['run', '--rm', '--ip', '10.0.0.10', '/bin/sh', '-c', 'httpd -p 80 -h /www && echo ready && read line'], {
      stdin: 'pipe',
    });
    await new Promise<void>((resolve) => server.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    const client = await host.minictr(['run', '--rm', '/usr/bin/wget', '-q', '-O', '-', 'http://10.0.0.10/']);
    server.stdin?.end('done\n');
    expectExit(client, 0);
    expect(client.stdout).toContain('Hello from a minictr container');
    expect((await server).exitCode).toBe(0);
    await expectHostUnchanged();
  });

  it("exits with the container's status", async () => {
    expectExit(await host.minictr(['run', '--rm', '/bin/sh', '-c', 'exit 42']), 42);
    expectExit(await host.minictr(['run', '--rm', '/bin/false']), 1);
    await expectHostUnchanged();
  });

  it('forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to PID 1', async () => {
    const signals = [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129], ['SIGQUIT', 131], ['SIGUSR1', 138], ['SIGUSR2', 140]] as const;
    for (const [signal, code] of signals) {
      const run = host.start(['run', '--rm', '/bin/sh', '-c', `trap 'exit ${code}' ${signal.slice(3)}; echo ready; while :; do sleep 0.05; done`]);
      await new Promise<void>((resolve) => run.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
      run.kill(signal);
      const result = await run;
      expect(result.exitCode, String(result.stderr)).toBe(code);
    }
    await expectHostUnchanged();
  });

  it('reports 128+N when signal N kills the container, and tears down', async () => {
    const run = host.start(['run', '--rm', '/bin/sh', '-c', 'echo ready; while :; do sleep 1; done']);
    await new Promise<void>((resolve) => run.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    process.kill(await containerPidOf(run.pid!), 'SIGKILL');
    expect((await run).exitCode).toBe(137);
    await expectHostUnchanged();
  });

  it('drives an interactive shell through stdin', async () => {
    const result = await host.minictr(['run', '--rm', '/bin/sh'], { input: 'echo hello from $(hostname)\ncd /www\npwd\nexit 7\n' });
    expectExit(result, 7);
    expect(result.stdout).toMatch(/^hello from [0-9a-f]{12}\n\/www$/);
    await expectHostUnchanged();
  });

  it('passes environment and working directory', async () => {
    const result = await host.minictr(['run', '--rm', '-e', 'GREETING=hi there', '-w', '/tmp/work', '/bin/sh', '-c', 'echo "$GREETING"; pwd; echo $PATH']);
    expectExit(result, 0);
    expect(result.stdout).toBe('hi there\n/tmp/work\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    await expectHostUnchanged();
  });

  it('never writes to the shared rootfs: each container has its own overlay', async () => {
    expectExit(await host.minictr(['run', '--rm', '/bin/sh', '-c', 'echo scribble > /www/index.html; rm /bin/ls']), 0);
    const result = await host.minictr(['run', '--rm', '/bin/sh', '-c', 'cat /www/index.html; ls /bin/ls']);
    expectExit(result, 0);
    expect(result.stdout).toContain('Hello from a minictr container');
    await expectHostUnchanged();
  });

  it('--network none gives only lo; --network host shares the host network namespace', async () => {
    const none = await host.minictr(['run', '--rm', '--network', 'none', '/bin/sh', '-c', 'ip -o link | cut -d: -f2']);
    expectExit(none, 0);
    expect(none.stdout.trim()).toBe('lo');
    const shared = await host.minictr(['run', '--rm', '--network', 'host', '/bin/readlink', '/proc/self/ns/net']);
    expectExit(shared, 0);
    expect(shared.stdout.trim()).toBe(readlinkSync(`/proc/${host.pid}/ns/net`));
    await expectHostUnchanged();
  });

  it('--explain names every step as it happens; --timings times them when the container exits', async () => {
    const steps = ['validate', 'state', 'address', 'clone', 'veth', 'nat', 'go→exec', 'run', 'teardown'];
    const explained = await host.minictr(['run', '--rm', '--explain', '-p', '8090:80', '/bin/true']);
    expectExit(explained, 0);
    const lines = explained.stderr.split('\n').filter((line) => line.startsWith('minictr: '));
    const label = (line: string) => line.slice('minictr: '.length).split(':')[0];
    expect(lines.filter((line) => !line.startsWith('minictr:   ')).map(label)).toEqual(steps);
    // What a step also sets up, indented under it: the cgroup under address, the equivalent ip and tc commands and
    // the netlink messages (the veth, its hairpin, the filter's qdisc and cls_bpf filter) under veth, the profile and
    // terminal under go→exec.
    expect(lines.map(label)).toEqual([
      ...steps.slice(0, 3), '  cgroup', ...steps.slice(3, 5), '  ip', '  tc', '  netlink', '  netlink', '  netlink', '  netlink', ...steps.slice(5, 7), '  user', '  capabilities', '  no_new_privs', '  seccomp', '  terminal', ...steps.slice(7),
    ]);
    expect(explained.stderr).toMatch(/^minictr: {3}cgroup: .*\/minictr\/[0-9a-f]{64}/m);
    expect(explained.stderr).toContain("capabilities: Docker's default, 14: CAP_CHOWN");
    expect(explained.stderr).toMatch(/veth: netlink: host end mc[0-9a-f]{12} joins minictr0 \(hairpin on\), veth filter on its clsact ingress; container end eth0 created directly in the netns of pid \d+/);
    expect(explained.stderr).toMatch(/^minictr: {3}ip: the same as: ip -batch: link add mc[0-9a-f]{12} up master minictr0 type veth peer name eth0 address 02:6d:63:\S+ netns \d+; link set mc[0-9a-f]{12} type bridge_slave hairpin on$/m);
    expect(explained.stderr).toMatch(/^minictr: {3}netlink: RTM_NEWLINK\(NLM_F_CREATE\|NLM_F_EXCL\) .*VETH_INFO_PEER \{.*IFLA_NET_NS_PID \d+\}/m);
    expect(explained.stderr).toMatch(/^minictr: {3}tc: the same as: tc -batch: qdisc add dev (mc[0-9a-f]{12}) clsact; filter add dev \1 ingress pref 1 handle 1 bpf direct-action <minictr_veth>$/m);
    expect(explained.stderr).toMatch(/^minictr: {3}netlink: RTM_NEWTFILTER\(NLM_F_CREATE\|NLM_F_EXCL\) tcmsg\{index \d+, handle 1, parent ingress, pref 1, protocol all\} TCA_KIND "bpf", TCA_OPTIONS \{TCA_BPF_FD \d+, TCA_BPF_NAME "minictr_veth", TCA_BPF_FLAGS TCA_BPF_FLAG_ACT_DIRECT\}$/m);
    expect(explained.stderr).toContain('publishes 0.0.0.0:8090/tcp -> 10.0.0.');

    const timed = await host.minictr(['run', '--rm', '--timings=json', '/bin/true']);
    expectExit(timed, 0);
    const report = JSON.parse(timed.stderr) as { steps: { step: string; ms: number }[]; total_ms: number };
    expect(report.steps.map((s) => s.step)).toEqual(['start-up (node)', 'load (commander, run modules)', ...steps]);
    expect(report.steps.every((s) => s.ms >= 0)).toBe(true);
    expect(report.total_ms).toBeCloseTo(report.steps.reduce((sum, s) => sum + s.ms, 0), 0);

    // --timings takes an optional value: a command right after it stays the command.
    const text = await host.minictr(['run', '--rm', '--timings', '/bin/echo', 'hi']);
    expectExit(text, 0);
    expect(text.stdout).toBe('hi');
    expect(text.stderr).toMatch(/^total +\d+\.\d ms$/m);
    await expectHostUnchanged();
  });

  it('gives 10 concurrent runs without --ip 10 distinct addresses', async () => {
    // Each container holds its lease until the test lets them all go, so the ten leases overlap in time.
    const runs = Array.from({ length: 10 }, () =>
      host.start(['run', '--rm', '/bin/sh', '-c', 'ip -4 -o addr show eth0; read line'], { stdin: 'pipe' }),
    );
    const addresses = await Promise.all(
      runs.map(
        (run) =>
          new Promise<string>((resolve, reject) => {
            run.stdout?.on('data', (d: Buffer) => {
              const match = /inet (10\.0\.0\.\d+)\/24/.exec(d.toString());
              if (match) resolve(match[1]!);
            });
            void run.then((r) => reject(new Error(`run ended early: exit ${r.exitCode}\n${r.stderr}`)));
          }),
      ),
    );
    expect(new Set(addresses).size).toBe(10);
    for (const run of runs) run.stdin?.end('done\n');
    for (const run of runs) expect((await run).exitCode).toBe(0);
    await expectHostUnchanged();
  });

  it('after SIGKILL of minictr the container dies with it, and gc removes its state and lease', async () => {
    const run = host.start(['run', '--rm', '--ip', '10.0.0.50', '--name', 'victim', '/bin/sh', '-c', 'echo ready; while :; do sleep 1; done']);
    await new Promise<void>((resolve) => run.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    const container = await containerPidOf(run.pid!);
    run.kill('SIGKILL');
    await run;
    const leftover = await host.snapshot();
    expect(leftover.state).toContain('leases/10.0.0.50');
    await waitUntilGone(container);
    const gc = await host.minictr(['gc']);
    expectExit(gc, 0);
    expect(gc.stdout).toMatch(/^[0-9a-f]{64}$/);
    await expectHostUnchanged();
  });
});

describe.skipIf(!isRoot)('minictr run: outbound NAT (needs root: skipped otherwise)', () => {
  let host: ScratchHost;

  beforeAll(async () => {
    host = await ScratchHost.create();
  });

  afterAll(async () => {
    await host?.dispose();
  });

  it('masquerades outbound traffic: upstream sees the host address, not the container one', async () => {
    const upstream = await host.addUpstream();
    await upstream.serveClientAddress(8080);
    expectExit(await host.minictr(['run', '--rm', '/bin/true']), 0);
    const before = await host.settle(await host.snapshot());
    const result = await host.minictr(['run', '--rm', '/usr/bin/wget', '-q', '-O', '-', 'http://203.0.113.1:8080/']);
    expectExit(result, 0);
    expect(result.stdout.trim()).toBe('203.0.113.2');
    expect(await host.settle(before)).toEqual(before);
  });
});
