// A user-defined network's resolver, one small Node process per network, run as
//   node server.js STATE_DIR GATEWAY SUBNET
// It listens on the network's gateway, port 53 (UDP), as aardvark-dns does, and answers the names of the
// network's containers from STATE_DIR/hosts (reloaded whenever that directory changes); every other query goes,
// unchanged, to the asking container's --dns servers or the host's resolvers (/etc/resolv.conf, reloaded when it
// changes), and their answer back. Only the network's own addresses are served: the gateway is also reachable from
// other networks' containers, which must not learn this network's names. It prints "ready" once bound (its
// starter waits for it), and exits when STATE_DIR disappears (network rm, system reset) or on SIGTERM.
//
// It parses what any container of the network sends, so it keeps no privilege: once bound to port 53 (the one
// thing root is needed for), it becomes nobody (uid and gid 65534, no supplementary groups; leaving uid 0 clears
// every capability). A directory above STATE_DIR may not be searchable by nobody (a umask of 077), so STATE_DIR is
// opened before that and read through /proc/self/fd/N, which a process may always follow for its own descriptors.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { encodeResponse, parseQuery, RCODE_REFUSED, RCODE_SERVFAIL, type Query } from './message.js';
import { readEndpoints, hostsDir } from './records.js';
import { buildZone, lookup, nameservers, type Zone } from './zone.js';
import { parseIpv4, Subnet } from '../subnet.js';

/** How long one upstream has to answer before the next is asked. */
const UPSTREAM_TIMEOUT_MS = 2000;
const RESOLV_CONF = '/etc/resolv.conf';
const NOBODY = 65534;
/**
 * Queries being forwarded at once. Each holds a socket and its closures for up to UPSTREAM_TIMEOUT_MS per upstream:
 * unbounded, one container sending a burst of unknown names (60,000 did) exhausts the small heap and kills the
 * resolver of every container on the network. Beyond the bound a query is dropped, as a lost packet.
 */
const MAX_FORWARDING = 256;
let forwarding = 0;

const [stateDir, gateway, subnetText] = process.argv.slice(2);
if (stateDir === undefined || gateway === undefined || subnetText === undefined) {
  process.stderr.write('usage: server.js STATE_DIR GATEWAY SUBNET\n');
  process.exit(2);
}
const subnet = Subnet.parse(subnetText);
/** STATE_DIR's descriptor (taken while root), and the path through it that stays readable as nobody. */
const stateFd = openSync(stateDir, constants.O_RDONLY | constants.O_DIRECTORY);
const state = `/proc/self/fd/${stateFd}`;

/** A value read from a file or directory, read again only when its mtime changes. */
function cached<T>(path: string, load: () => T): () => T {
  let stamp = -1;
  let value = load();
  return () => {
    let now = 0;
    try {
      now = statSync(path).mtimeMs;
    } catch {
      // gone: an empty value, until it exists again
    }
    if (now !== stamp) {
      stamp = now;
      value = load();
    }
    return value;
  };
}

const zone: () => Zone = cached(hostsDir(state), () => buildZone(readEndpoints(state)));
const hostServers: () => string[] = cached(RESOLV_CONF, () => {
  try {
    return nameservers(readFileSync(RESOLV_CONF, 'utf8'));
  } catch {
    return [];
  }
});

/** Sends `message` to each upstream in turn until one answers; null when none does. */
function forward(message: Buffer, upstreams: readonly string[]): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    let index = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (answer: Buffer | null) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const next = () => {
      const upstream = upstreams[index++];
      if (upstream === undefined) return finish(null);
      timer = setTimeout(next, UPSTREAM_TIMEOUT_MS);
      socket.send(message, 53, upstream, (error) => error && next());
    };
    socket.on('message', (answer, from) => {
      if (upstreams.includes(from.address) && answer.length >= 2 && answer.readUInt16BE(0) === message.readUInt16BE(0)) finish(answer);
    });
    socket.on('error', () => finish(null));
    next();
  });
}

async function answer(server: Socket, message: Buffer, from: RemoteInfo): Promise<void> {
  const reply = (bytes: Buffer) => server.send(bytes, from.port, from.address);
  let query: Query;
  try {
    query = parseQuery(message);
  } catch {
    return; // not a query this resolver can read: no answer, as for a lost packet
  }
  const source = parseIpv4(from.address);
  if (source === null || !subnet.contains(source)) return reply(encodeResponse(message, query, RCODE_REFUSED, []));
  const known = zone();
  const local = lookup(known, query.question);
  if (local !== 'forward') return reply(encodeResponse(message, query, local.rcode, local.answers));
  if (forwarding >= MAX_FORWARDING) return;
  forwarding++;
  let upstream: Buffer | null;
  try {
    upstream = await forward(message, known.upstreams.get(from.address) ?? hostServers());
  } finally {
    forwarding--;
  }
  reply(upstream ?? encodeResponse(message, query, RCODE_SERVFAIL, []));
}

const server = createSocket('udp4');
server.on('message', (message, from) => {
  answer(server, message, from).catch(() => {});
});
server.on('error', (error) => {
  process.stderr.write(`minictr resolver on ${gateway}:53: ${error.message}\n`);
  process.exit((error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 3 : 1);
});
server.bind(53, gateway, () => {
  process.setgroups!([]);
  process.setgid!(NOBODY);
  process.setuid!(NOBODY);
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => process.exit(0));
// A removed directory keeps no link: its descriptor then says so.
setInterval(() => {
  if (fstatSync(stateFd).nlink === 0) process.exit(0);
}, 2000);
