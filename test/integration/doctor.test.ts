// `minictr doctor` on a healthy scratch host, then with planted problems: forwarding off, a route overlapping the
// container subnet, another table's forward chain with policy drop, and a dead container's state.

import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor.js';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('minictr doctor (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  async function doctor(): Promise<{ exitCode: number; findings: Finding[] }> {
    const result = await scratch.host.minictr(['doctor', '--format', 'json']);
    return { exitCode: result.exitCode, findings: JSON.parse(result.stdout) as Finding[] };
  }

  it('finds nothing wrong on a healthy host, and changes nothing while probing', async () => {
    const { exitCode, findings } = await doctor();
    expect(findings.filter((f) => f.level !== 'ok')).toEqual([]);
    expect(exitCode).toBe(0);
    expect(findings.map((f) => f.check)).toEqual(
      expect.arrayContaining([
        'root', 'namespaces', 'overlayfs', 'cgroups', 'programs', 'veth and bridge', 'nftables',
        'ip_forward', 'loopback guard', 'br_netfilter', 'firewall', 'subnet', 'leftovers',
      ]),
    );
    expect(await scratch.host.snapshot()).toEqual(scratch.before);
  });

  it('as another user, says to run it as root instead of suggesting fixes for what only root can probe', async () => {
    // uid 65534, keeping only the right to read any file, so that the checkout is readable wherever it is.
    const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps', '+dac_read_search', '--ambient-caps', '+dac_read_search'];
    const result = await scratch.host.exec([...asNobody, process.execPath, CLI, 'doctor', '--format', 'json']);
    expect(result.exitCode, String(result.stderr)).toBe(1);
    const findings = JSON.parse(String(result.stdout)) as Finding[];
    expect(findings[0]).toMatchObject({ level: 'error', check: 'root', fix: 'sudo minictr doctor' });
    expect(findings.filter((f) => f.level !== 'ok').map((f) => f.check)).toEqual(['root']);
    expect(findings.some((f) => f.fix?.includes('modprobe'))).toBe(false);
  });

  it('reports planted problems with their fixes, and exits 1', async () => {
    await scratch.host.must(['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    await scratch.host.must(['ip', 'route', 'add', 'blackhole', '10.0.0.0/16']);
    await scratch.host.must(['nft', 'add', 'table', 'ip', 'other']);
    await scratch.host.must(['nft', 'add', 'chain', 'ip', 'other', 'filter_forward', '{ type filter hook forward priority 0; policy drop; }']);
    try {
      const { exitCode, findings } = await doctor();
      expect(exitCode).toBe(1);
      const errors = findings.filter((f) => f.level === 'error');
      expect(errors.map((f) => f.check).sort()).toEqual(['firewall', 'ip_forward', 'subnet']);
      expect(errors.find((f) => f.check === 'ip_forward')?.fix).toBe('sysctl -w net.ipv4.ip_forward=1');
      expect(errors.find((f) => f.check === 'subnet')?.message).toContain('10.0.0.0/16');
      expect(errors.find((f) => f.check === 'firewall')?.message).toContain('table ip other');
    } finally {
      await scratch.host.must(['nft', 'delete', 'table', 'ip', 'other']);
      await scratch.host.must(['ip', 'route', 'del', 'blackhole', '10.0.0.0/16']);
      await scratch.host.must(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    }
    expect((await doctor()).exitCode).toBe(0);
  });

  it("reports a container's veth without the eBPF loopback guard while route_localnet is on", async () => {
    const started = await scratch.host.minictr(['run', '-d', '--name', 'unguarded', '/bin/sleep', '60']);
    expect(started.exitCode, started.stderr).toBe(0);
    try {
      expect((await doctor()).exitCode).toBe(0);
      await scratch.host.detachVethFilters();
      const { exitCode, findings } = await doctor();
      expect(exitCode).toBe(1);
      const guard = findings.find((f) => f.check === 'loopback guard');
      expect(guard?.level).toBe('error');
      expect(guard?.message).toMatch(/^route_localnet is 1 on minictr0 but these veths lack the eBPF loopback guard: mc[0-9a-f]{12};/);
      expect(guard?.fix).toContain('sysctl -w net.ipv4.conf.minictr0.route_localnet=0');
    } finally {
      await scratch.host.minictr(['rm', '-f', 'unguarded']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('points at minictr gc for a dead container', async () => {
    const crashed = await scratch.host.start(['run', '--rm', '/bin/true'], { env: { MINICTR_CRASH_AT: 'veth' } });
    expect(crashed.signal).toBe('SIGKILL');
    const leftovers = (await doctor()).findings.filter((f) => f.check === 'leftovers' && f.level === 'warning');
    expect(leftovers[0]?.fix).toBe('minictr gc');
    expect((await scratch.host.minictr(['gc'])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
