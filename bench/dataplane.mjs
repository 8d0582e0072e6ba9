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
  const child = spawn(prefix[0] ?? 'iperf3', [...prefix.slice(1), ...(prefix.length ? ['iperf3'] : []), '-s', '-1', '--forceflush', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => child.stdout.on('data', (d) => d.toString().includes('listening') && resolve(child)));
}

/** Gbit/s from one iperf3 client run. */
async function measure(serverPrefix, clientPrefix, address, port) {
  const runs = [];
  for (let i = 0; i < REPEATS; i++) {
    const listening = await server(serverPrefix, port);
    const out = sh([...clientPrefix, 'iperf3', '-c', address, '-p', String(port), '-t', String(SECONDS), '-J']);
    await new Promise((resolve) => (listening.exitCode !== null ? resolve() : listening.on('exit', resolve)));
    runs.push(JSON.parse(out).end.sum_received.bits_per_second / 1e9);
  }
  return median(runs);
}

const netns = (name) => ['ip', 'netns', 'exec', name];
const inContainer = (pid) => ['nsenter', '-t', String(pid), '-n'];

function containerPid(name) {
  const [info] = JSON.parse(sh([process.execPath, cli, 'inspect', name]));
  return { pid: info.process.pid, address: info.address };
}

export async function dataplane() {
  if (!which('iperf3')) {
    return { markdown: '### Data plane\n\niperf3 is not installed (apt-get install iperf3): not measured.\n', json: { skipped: 'iperf3 not installed' } };
  }
  // 1. The raw paths: loopback, and a veth pair between two namespaces (TEST-NET-1 addresses).
  sh(['ip', 'netns', 'add', 'rawa']);
  sh(['ip', 'netns', 'add', 'rawb']);
  sh(['ip', 'link', 'add', 'va', 'netns', 'rawa', 'type', 'veth', 'peer', 'name', 'vb', 'netns', 'rawb']);
  for (const [ns, dev, cidr] of [['rawa', 'va', '192.0.2.1/24'], ['rawb', 'vb', '192.0.2.2/24']]) {
    sh([...netns(ns), 'ip', 'addr', 'add', cidr, 'dev', dev]);
    sh([...netns(ns), 'ip', 'link', 'set', dev, 'up']);
    sh([...netns(ns), 'ip', 'link', 'set', 'lo', 'up']);
  }
  const rawVeth = await measure(netns('rawa'), netns('rawb'), '192.0.2.1', 5201);
  const rawLoopback = await measure([], [], '127.0.0.1', 5202);

  // 2. minictr: two containers, the server publishing 5203.
  sh([process.execPath, cli, 'run', '-d', '--rm', '--name', 'iperf-server', '-p', '5203:5203', '/bin/sleep', '1000000']);
  sh([process.execPath, cli, 'run', '-d', '--rm', '--name', 'iperf-client', '/bin/sleep', '1000000']);
  const srv = containerPid('iperf-server');
  const cl = containerPid('iperf-client');
  const c2c = await measure(inContainer(srv.pid), inContainer(cl.pid), srv.address, 5203);
  const hostToContainer = await measure(inContainer(srv.pid), [], srv.address, 5203);
  const published = await measure(inContainer(srv.pid), [], '127.0.0.1', 5203);
  sh([process.execPath, cli, 'rm', '-f', 'iperf-server', 'iperf-client']);
  sh(['ip', 'netns', 'del', 'rawa']);
  sh(['ip', 'netns', 'del', 'rawb']);

  const rows = [
    { path: 'container → container (bridge)', 'Gbit/s': round(c2c, 2), 'raw path': 'veth between two netns', 'raw Gbit/s': round(rawVeth, 2), ratio: round(c2c / rawVeth, 2) },
    { path: 'host → container (bridge)', 'Gbit/s': round(hostToContainer, 2), 'raw path': 'veth between two netns', 'raw Gbit/s': round(rawVeth, 2), ratio: round(hostToContainer / rawVeth, 2) },
    { path: 'host → 127.0.0.1:5203 published (DNAT)', 'Gbit/s': round(published, 2), 'raw path': 'loopback', 'raw Gbit/s': round(rawLoopback, 2), ratio: round(published / rawLoopback, 2) },
  ];
  return {
    markdown: `### Data plane (iperf3, TCP, ${SECONDS} s, median of ${REPEATS})\n\n${table(rows)}\n`,
    json: { rows },
  };
}
