// Throughput through minictr's network with iperf3 (TCP, one stream), against the kernel's raw path measured in the
// same run: container ↔ container and host → container against a plain veth pair between two namespaces, and a
// published port on 127.0.0.1 against plain loopback. iperf3 runs from the host's file system inside the
// containers' network namespaces (nsenter -n): the busybox rootfs has no iperf3, and only the network path matters.
import { spawn } from 'node:child_process';
import { cli, median, round, sh, table, which } from './lib.mjs';

const SECONDS = 3;
const REPEATS = 5;

/** Starts a one-shot iperf3 server (argv prefix: where it runs) and resolves once it listens. */
function server(prefix, port) {
  const argv = [...prefix, 'iperf3', '-s', '-1', '--forceflush', '-p', String(port)];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => d.toString().includes('listening') && resolve(child));
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited (${code}) before listening`)));
  });
}

/** Gbit/s of one iperf3 client run against a one-shot server. */
async function once({ server: serverPrefix, client: clientPrefix, address, port }) {
  const listening = await server(serverPrefix, port);
  const exited = new Promise((resolve) => (listening.exitCode !== null ? resolve() : listening.on('exit', resolve)));
  try {
    const out = sh([...clientPrefix, 'iperf3', '-c', address, '-p', String(port), '-t', String(SECONDS), '-J']);
    return JSON.parse(out).end.sum_received.bits_per_second / 1e9;
  } finally {
    listening.kill(); // a failed client leaves the one-shot server waiting: it runs on the host, not in a container
    await exited;
  }
}

const netns = (name) => ['ip', 'netns', 'exec', name];
const inContainer = (pid) => ['nsenter', '-t', String(pid), '-n'];

/** Addresses `dev` in namespace `ns` and brings it and lo up. */
function up(ns, dev, cidr) {
  sh([...netns(ns), 'ip', 'addr', 'add', cidr, 'dev', dev]);
  sh([...netns(ns), 'ip', 'link', 'set', dev, 'up']);
  sh([...netns(ns), 'ip', 'link', 'set', 'lo', 'up']);
}

/**
 * Two namespaces joined by a bare bridge (no rules at all) in a third, `<prefix>br`, with bridge-nf-call-iptables
 * set to `callIptables` there when br_netfilter is loaded. Returns the path and the setting it ended up with;
 * the namespaces it creates are added to `namespaces`.
 */
function bridgedPair(prefix, subnet, callIptables, namespaces) {
  const [bridgeNs, serverNs, clientNs] = [`${prefix}br`, `${prefix}s`, `${prefix}c`];
  for (const ns of [bridgeNs, serverNs, clientNs]) {
    sh(['ip', 'netns', 'add', ns]);
    namespaces.push(ns); // for the caller's cleanup, whatever happens next
  }
  sh([...netns(bridgeNs), 'ip', 'link', 'add', 'br0', 'type', 'bridge']);
  sh([...netns(bridgeNs), 'ip', 'link', 'set', 'br0', 'up']);
  for (const [ns, host] of [[serverNs, 1], [clientNs, 2]]) {
    sh(['ip', 'link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', `port${host}`, 'netns', bridgeNs]);
    sh([...netns(bridgeNs), 'ip', 'link', 'set', `port${host}`, 'master', 'br0', 'up']);
    up(ns, 'eth0', `${subnet}.${host}/24`);
  }
  const sysctl = '/proc/sys/net/bridge/bridge-nf-call-iptables';
  let setting = 'not loaded';
  try {
    sh([...netns(bridgeNs), 'tee', sysctl], { input: `${callIptables}\n` });
    setting = `bridge-nf-call-iptables=${callIptables}`;
  } catch {
    // br_netfilter is not loaded: bridged frames never cross the IP hooks
  }
  return { path: { server: netns(serverNs), client: netns(clientNs), address: `${subnet}.1`, port: 5201 }, setting };
}

function containerPid(name) {
  const [info] = JSON.parse(sh([process.execPath, cli, 'inspect', name]));
  return { pid: info.process.pid, address: info.address };
}

export async function dataplane() {
  if (!which('iperf3')) {
    return { markdown: '### Data plane\n\niperf3 is not installed (apt-get install iperf3): not measured.\n', json: { skipped: 'iperf3 not installed' } };
  }
  // 1. The raw paths (TEST-NET-1 addresses): a veth pair between two namespaces, loopback, and, for where a
  //    bridge's cost comes from, two namespaces through a bare bridge with br_netfilter as a host that has it loaded
  //    gives every new namespace (bridge-nf-call-iptables=1: bridged IPv4 frames cross the IP hooks) and with it off.
  const namespaces = [];
  const containers = [];
  let samples;
  let settings;
  try {
    for (const ns of ['rawa', 'rawb']) {
      sh(['ip', 'netns', 'add', ns]);
      namespaces.push(ns);
    }
    sh(['ip', 'link', 'add', 'va', 'netns', 'rawa', 'type', 'veth', 'peer', 'name', 'vb', 'netns', 'rawb']);
    up('rawa', 'va', '192.0.2.1/24');
    up('rawb', 'vb', '192.0.2.2/24');
    const withBrnf = bridgedPair('brnfon', '192.0.2', 1, namespaces);
    const withoutBrnf = bridgedPair('brnfoff', '192.0.2', 0, namespaces);

    // 2. minictr: two containers, the server publishing 5203.
    for (const [name, publish] of [['iperf-server', ['-p', '5203:5203']], ['iperf-client', []]]) {
      sh([process.execPath, cli, 'run', '-d', '--rm', '--name', name, ...publish, '/bin/sleep', '1000000']);
      containers.push(name);
    }
    const srv = containerPid('iperf-server');
    const cl = containerPid('iperf-client');

    // 3. Every path once per round, rounds interleaved, so that drift of the machine hits them all alike.
    const paths = {
      veth: { server: netns('rawa'), client: netns('rawb'), address: '192.0.2.1', port: 5201 },
      loopback: { server: [], client: [], address: '127.0.0.1', port: 5202 },
      bridge: withBrnf.path,
      bridgeNoBrnf: withoutBrnf.path,
      c2c: { server: inContainer(srv.pid), client: inContainer(cl.pid), address: srv.address, port: 5203 },
      hostToContainer: { server: inContainer(srv.pid), client: [], address: srv.address, port: 5203 },
      published: { server: inContainer(srv.pid), client: [], address: '127.0.0.1', port: 5203 },
    };
    samples = Object.fromEntries(Object.keys(paths).map((key) => [key, []]));
    for (let round = 0; round < REPEATS; round++) {
      for (const [key, path] of Object.entries(paths)) samples[key].push(await once(path));
    }
    settings = { withBrnf: withBrnf.setting, withoutBrnf: withoutBrnf.setting };
  } finally {
    if (containers.length > 0) sh([process.execPath, cli, 'rm', '-f', ...containers]);
    for (const ns of namespaces) sh(['ip', 'netns', 'del', ns]);
  }
  const gbit = Object.fromEntries(Object.entries(samples).map(([key, values]) => [key, median(values)]));

  const row = (path, key, rawPath, rawKey) => ({
    path,
    'Gbit/s': round(gbit[key], 2),
    'raw path': rawPath,
    'raw Gbit/s': round(gbit[rawKey], 2),
    ratio: round(gbit[key] / gbit[rawKey], 2),
  });
  const rows = [
    row('container → container (bridge)', 'c2c', 'veth between two netns', 'veth'),
    row('host → container (bridge)', 'hostToContainer', 'veth between two netns', 'veth'),
    row('host → 127.0.0.1:5203 published (DNAT)', 'published', 'loopback', 'loopback'),
    row('the same, against host → container', 'published', 'host → container (bridge)', 'hostToContainer'),
  ];
  const rawRow = (path, key) => ({ path, 'Gbit/s': round(gbit[key], 2), '× veth': round(gbit[key] / gbit.veth, 2) });
  const raw = [
    rawRow('veth pair between two netns', 'veth'),
    rawRow(`two netns through a bare bridge, ${settings.withBrnf}`, 'bridge'),
    rawRow(`two netns through a bare bridge, ${settings.withoutBrnf}`, 'bridgeNoBrnf'),
    rawRow('loopback', 'loopback'),
  ];
  return {
    markdown:
      `### Data plane (iperf3, TCP, one stream, ${SECONDS} s, median of ${REPEATS} interleaved rounds)\n\n${table(rows)}\n\n` +
      `Raw kernel paths, for where the gap comes from (no minictr, no rules):\n\n${table(raw)}\n`,
    json: { rows, raw, samples },
  };
}
