// minictr's nftables table. Everything minictr adds lives in one table of its own (family ip), so it never touches
// rules it did not create, and reset is a single `delete table`.
//
// The base (chains and rules) is declared in one atomic `nft -f -` transaction: "add" table, maps and chains
// (no-ops when present), flush the chains, add the rules. That makes it idempotent and safe under concurrent runs.
// A run applies it only when a listing does not show it, current, on every rule (ensureRuleset): someone may have
// flushed the ruleset or deleted a rule, or an older minictr left other rules. Per-container data lives only in the
// two maps, which the flush leaves alone:
//
//   published_any    protocol . host port            → container address . container port   (-p 8080:80)
//   published_addr   host address . protocol . port  → container address . container port   (-p 127.0.0.1:8080:80)
//
// so a packet meets the same handful of rules whether 1 or 250 containers publish ports (one hash lookup each),
// and publishing or unpublishing a container's ports is one transaction of map elements.
//
// Guards. Into the bridge, forward only what a container started (iifname), answers to it (established) and
// published ports (ct status dnat): a LAN host with a route to 10.0.0.0/24 through this host reaches no container
// port that is not published. And route_localnet, which loopback clients need, must not let a container reach the
// host's 127.0.0.1 services by sending to 127.x through the gateway: such packets are dropped on arrival (the
// guard chain, at raw priority, before DNAT could make them legitimate).
//
// Container to container traffic on the bridge is not tracked (notrack, same chain): it needs no NAT, the forward
// chain accepts everything a container sends, and conntrack was the largest cost on that path (iperf3: 76 % of a
// plain veth tracked, 85-90 % untracked; see bench/dataplane.mjs). It only matters with br_netfilter and
// bridge-nf-call-iptables=1, when bridged frames pass the IP hooks at all. Traffic to the gateway address stays
// tracked: the replies of masqueraded (hairpin, loopback) connections come back to it and must be de-NATed.
//
// Where each client is caught (kernel DNAT, no userland proxy):
//   another host            prerouting: DNAT to the container; forward accepts DNATed traffic to the bridge
//   the host itself         output: DNAT; a 127.0.0.0/8 source leaving by the bridge is masqueraded (together
//                           with route_localnet on the bridge, see bridge.ts) so the reply finds its way back
//   a container (hairpin)   prerouting: DNAT; the packet goes back to the bridge it came from, so its source is
//                           masqueraded to the gateway, or the peer would answer it directly and the client would
//                           drop a reply from an address it never wrote to. Without br_netfilter the host routes
//                           it; with br_netfilter (bridge-nf-call-iptables=1) the DNAT happens as the bridge
//                           receives the frame and a packet to the sender's own port leaves by the port it came
//                           in by, hence hairpin mode on every bridge port (veth.ts).

import { createHash } from 'node:crypto';
import { runCommand, CommandError } from '../sys/command.js';
import { NFT_FAMILY, NFT_TABLE } from './names.js';
import type { PortMapping, Protocol } from './ports.js';
import { formatIpv4, type Subnet } from './subnet.js';

const TABLE = `${NFT_FAMILY} ${NFT_TABLE}`;
const MAP_ANY = 'published_any';
const MAP_ADDR = 'published_addr';

const CHAINS = ['prerouting', 'output', 'postrouting', 'forward', 'guard'] as const;
type Chain = (typeof CHAINS)[number];

/** Every rule a packet can meet, by chain. */
function baseRules(subnet: Subnet, bridge: string): [Chain, string][] {
  const dnat = [
    `fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @${MAP_ADDR}`,
    `fib daddr type local dnat ip to meta l4proto . th dport map @${MAP_ANY}`,
  ];
  const net = subnet.toString();
  return [
    ...dnat.map((rule): [Chain, string] => ['prerouting', rule]),
    ...dnat.map((rule): [Chain, string] => ['output', rule]),
    ['postrouting', `ip saddr ${net} oifname != "${bridge}" masquerade`],
    ['postrouting', `oifname "${bridge}" ct status dnat ip saddr 127.0.0.0/8 masquerade`],
    ['postrouting', `oifname "${bridge}" ct status dnat ip saddr ${net} masquerade`],
    ['forward', `iifname "${bridge}" accept`],
    ['forward', `oifname "${bridge}" ct state established,related accept`],
    ['forward', `oifname "${bridge}" ct status dnat accept`],
    ['forward', `oifname "${bridge}" drop`],
    ['guard', `iifname "${bridge}" ip daddr 127.0.0.0/8 drop`],
    ['guard', `iifname "${bridge}" ip saddr ${net} ip daddr ${net} ip daddr != ${formatIpv4(subnet.gateway)} notrack`],
  ];
}

/** The base ruleset's declarations and rules, each rule ending with `marker` when one is given. */
function baseLines(subnet: Subnet, bridge: string, marker: string | null): string[] {
  const comment = marker === null ? '' : ` comment "${marker}"`;
  return [
    `add table ${TABLE}`,
    `add map ${TABLE} ${MAP_ANY} { type inet_proto . inet_service : ipv4_addr . inet_service; }`,
    `add map ${TABLE} ${MAP_ADDR} { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }`,
    `add chain ${TABLE} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ${TABLE} output { type nat hook output priority -100; policy accept; }`,
    `add chain ${TABLE} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${TABLE} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain ${TABLE} guard { type filter hook prerouting priority raw; policy accept; }`,
    ...CHAINS.map((chain) => `flush chain ${TABLE} ${chain}`),
    ...baseRules(subnet, bridge).map(([chain, rule]) => `add rule ${TABLE} ${chain} ${rule}${comment}`),
  ];
}

/** "minictr-base-<12 hex>": names this exact base ruleset (a hash of all of it). */
export function baseMarker(subnet: Subnet, bridge: string): string {
  const text = baseLines(subnet, bridge, null).join('\n');
  return `minictr-base-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/**
 * The base ruleset. Every rule that a packet can meet is here; containers only add map elements. Every rule
 * carries the comment "minictr-base-<hash of the whole ruleset>", so that one listing tells whether the base is in
 * place, complete and current (see ensureRuleset).
 */
export function baseRuleset(subnet: Subnet, bridge: string): string {
  return `${baseLines(subnet, bridge, baseMarker(subnet, bridge)).join('\n')}\n`;
}

/**
 * Makes sure the base ruleset is in place, with `lines` (a container's map elements) applied. The base is
 * re-applied only when a terse listing of the table (`-t` leaves the map elements out) does not show the current
 * marker on exactly as many rules as the base has: re-applying takes about 15 ms, on every run. Elements go in the
 * same nft call as the listing, one process instead of two; if that fails (no table yet, or it vanished meanwhile:
 * a reset, a firewall reload), base and elements are applied together. Returns whether the base was applied.
 */
export async function ensureRuleset(subnet: Subnet, bridge: string, lines: readonly string[]): Promise<boolean> {
  const elements = lines.map((line) => `${line}\n`).join('');
  let listing: string | null;
  try {
    const argv = ['nft', '-t', ...(elements === '' ? ['list', 'table', NFT_FAMILY, NFT_TABLE] : ['-f', '-'])];
    listing = (await runCommand(argv, elements === '' ? undefined : `${elements}list table ${TABLE}\n`)).stdout;
  } catch {
    listing = null;
  }
  const marked = listing === null ? 0 : listing.split(`comment "${baseMarker(subnet, bridge)}"`).length - 1;
  if (marked === baseRules(subnet, bridge).length) return false;
  await applyRuleset(baseRuleset(subnet, bridge) + (listing === null ? elements : ''));
  return true;
}

function element(mapping: PortMapping, containerAddress: string): { map: string; entry: string; key: string } {
  const key = `${mapping.protocol} . ${mapping.hostPort}`;
  const value = `${containerAddress} . ${mapping.containerPort}`;
  return mapping.hostIp === null
    ? { map: MAP_ANY, entry: `${key} : ${value}`, key }
    : { map: MAP_ADDR, entry: `${mapping.hostIp} . ${key} : ${value}`, key: `${mapping.hostIp} . ${key}` };
}

/** Script lines publishing `mappings` to `containerAddress`. */
export function publishLines(mappings: readonly PortMapping[], containerAddress: string): string[] {
  return mappings.map((mapping) => {
    const { map, entry } = element(mapping, containerAddress);
    return `add element ${TABLE} ${map} { ${entry} }`;
  });
}

/**
 * A script removing `mappings`, idempotent: each element is added then deleted in the same transaction, because
 * deleting an element that is not there fails the whole transaction.
 */
export function unpublishScript(mappings: readonly PortMapping[], containerAddress: string): string {
  const lines = mappings.flatMap((mapping) => {
    const { map, entry, key } = element(mapping, containerAddress);
    return [`add element ${TABLE} ${map} { ${entry} }`, `delete element ${TABLE} ${map} { ${key} }`];
  });
  return `${lines.join('\n')}\n`;
}

/** Applies an nft script as one transaction: all of it or none of it. */
async function applyRuleset(script: string): Promise<void> {
  await runCommand(['nft', '-f', '-'], script);
}

/** A map element as nft -j shows it: [{concat: key}, {concat: [address, port]}]. */
type JsonElement = [{ concat: (string | number)[] }, { concat: [string, number] }];

/** Every mapping in minictr's maps, with the container address it leads to; none when there is no table. */
export async function publishedMappings(): Promise<{ mapping: PortMapping; address: string }[]> {
  let listing: string;
  try {
    listing = (await runCommand(['nft', '-j', 'list', 'table', NFT_FAMILY, NFT_TABLE])).stdout;
  } catch {
    return [];
  }
  const items = (JSON.parse(listing) as { nftables: { map?: { name: string; elem?: JsonElement[] } }[] }).nftables;
  return items.flatMap(({ map }) =>
    map === undefined || (map.name !== MAP_ANY && map.name !== MAP_ADDR)
      ? []
      : (map.elem ?? []).flatMap(([{ concat: key }, { concat: [address, containerPort] }]) => {
          const [hostIp, protocol, hostPort] = map.name === MAP_ANY ? [null, ...key] : key;
          const mapping = {
            hostIp: typeof hostIp === 'string' ? hostIp : null,
            protocol: PROTOCOL_NAMES[String(protocol)],
            hostPort: Number(hostPort),
            containerPort: Number(containerPort),
          };
          // What cannot be read is left alone: gc deletes what this returns.
          const readable = mapping.protocol !== undefined && Number.isInteger(mapping.hostPort) && typeof address === 'string';
          return readable ? [{ mapping: mapping as PortMapping, address }] : [];
        }),
  );
}

/** nft prints a protocol by name from /etc/protocols, by number on a host without it. */
const PROTOCOL_NAMES: Record<string, Protocol | undefined> = { tcp: 'tcp', udp: 'udp', '6': 'tcp', '17': 'udp' };

/** Adds the elements of `mappings`, in one transaction. */
export async function publish(mappings: readonly PortMapping[], containerAddress: string): Promise<void> {
  await applyRuleset(publishLines(mappings, containerAddress).map((line) => `${line}\n`).join(''));
}

/** Removes the elements of `mappings`, if the table still exists (reset may have removed it already). */
export async function unpublish(mappings: readonly PortMapping[], containerAddress: string): Promise<void> {
  if (mappings.length === 0) return;
  try {
    await applyRuleset(unpublishScript(mappings, containerAddress));
  } catch (cause) {
    if (cause instanceof CommandError && /No such file or directory/.test(cause.stderr) && !(await tableExists())) return;
    throw cause;
  }
}

async function tableExists(): Promise<boolean> {
  try {
    await runCommand(['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE]);
    return true;
  } catch {
    return false;
  }
}

/** Removes minictr's table and everything in it; absent counts as removed. */
export async function deleteTable(): Promise<void> {
  try {
    await runCommand(['nft', 'delete', 'table', NFT_FAMILY, NFT_TABLE]);
  } catch (cause) {
    if (cause instanceof CommandError && /No such file or directory/.test(cause.stderr)) return;
    throw cause;
  }
}
