// A user-defined network's nftables table (family ip), one per network, beside minictr's main table (firewall.ts),
// which keeps the published-port maps and DNAT for every network. The rules are the main base's, for this bridge
// and subnet, and isolate the network the way Docker's DOCKER-ISOLATION chains do, from the receiving side: into
// the bridge go only what a container of the bridge sent, answers (established) and published ports (ct status
// dnat). A base chain's accept does not stop the other tables' chains of the same hook, and a drop in any one
// drops the packet: so the main table's `oifname "minictr0" drop` keeps this network's containers out of the
// default network, and this table keeps every other bridge's containers out of this one.
//
// --internal: nothing forwarded out of the bridge or into it, and no masquerade. The gateway (the bridge's
// address) stays, for the network's DNS resolver.
//
// A dual-stack network has a second table of the same name in family ip6 with the same rules for its IPv6 subnet
// (masquerade out, the same isolation; the bridge's link-local traffic needs no rule), and IPv6 port publishing:
// a map `published6` (protocol . host port → container address . port, one element per -p without a host
// address) that DNAT reads in prerouting (other hosts, containers) and output (the host itself, on its IPv6
// addresses). Not on [::1], which the DNAT leaves alone: IPv6 has no route_localnet, the kernel never lets a ::1
// source leave by the bridge; minictr-proxy serves it (loopback-proxy.ts), as Docker's userland proxy does. Both
// tables go in one transaction.
//
// Like the main base, every rule carries a marker hashing the whole table, so one terse listing tells whether it is
// in place and current (ensureNetworkTable).

import { isElementClash, isMissing, nft } from './firewall.js';
import { NFT_FAMILY, networkTableName } from './names.js';
import { crypto } from '../sys/builtins.js';
import { formatIpv6 } from './subnet6.js';
import { networkIpv6, type UserNetwork } from './networks.js';
import type { PortMapping } from './ports.js';

const CHAINS = ['postrouting', 'forward', 'guard'] as const;
/** The ip6 table's chains besides: DNAT of published ports. */
const DNAT_CHAINS = ['prerouting', 'output'] as const;
type Chain = (typeof CHAINS)[number] | (typeof DNAT_CHAINS)[number];
const MAP6 = 'published6';

type Family = 'ip' | 'ip6';

/** The families the network has a table in. */
function familiesOf(network: UserNetwork): Family[] {
  return networkIpv6(network) === null ? ['ip'] : ['ip', 'ip6'];
}

function networkRules(network: UserNetwork, family: Family): [Chain, string][] {
  const { bridge, internal } = network;
  const ipv6 = networkIpv6(network);
  const [subnet, gateway] = family === 'ip6' && ipv6 !== null ? [ipv6.subnet.toString(), formatIpv6(ipv6.gateway)] : [network.subnet, network.gateway];
  const rules: [Chain, string][] = [];
  if (!internal) rules.push(['postrouting', `${family} saddr ${subnet} oifname != "${bridge}" masquerade`]);
  if (family === 'ip') rules.push(['postrouting', `oifname "${bridge}" ct status dnat ip saddr 127.0.0.0/8 masquerade`]);
  else {
    const dnat = `ip6 daddr != ::1 fib daddr type local dnat ip6 to meta l4proto . th dport map @${MAP6}`;
    rules.push(['prerouting', dnat], ['output', dnat]);
  }
  rules.push(
    ['postrouting', `oifname "${bridge}" ct status dnat ${family} saddr ${subnet} masquerade`],
    ['forward', `iifname "${bridge}" oifname "${bridge}" accept`],
  );
  if (internal) rules.push(['forward', `iifname "${bridge}" drop`], ['forward', `oifname "${bridge}" drop`]);
  else {
    rules.push(
      ['forward', `oifname "${bridge}" ct state established,related accept`],
      ['forward', `oifname "${bridge}" ct status dnat accept`],
      ['forward', `oifname "${bridge}" drop`],
    );
  }
  if (family === 'ip') rules.push(['guard', `iifname "${bridge}" ip daddr 127.0.0.0/8 drop`]);
  rules.push(['guard', `iifname "${bridge}" ${family} saddr ${subnet} ${family} daddr ${subnet} ${family} daddr != ${gateway} notrack`]);
  return rules;
}

function tableLines(network: UserNetwork, marker: string | null): string[] {
  return familiesOf(network).flatMap((family) => familyLines(network, family, marker));
}

function familyLines(network: UserNetwork, family: Family, marker: string | null): string[] {
  const table = `${family} ${networkTableName(network.bridge)}`;
  const comment = marker === null ? '' : ` comment "${marker}"`;
  const dnat =
    family === 'ip6'
      ? [
          `add map ${table} ${MAP6} { type inet_proto . inet_service : ipv6_addr . inet_service; }`,
          `add chain ${table} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
          `add chain ${table} output { type nat hook output priority -100; policy accept; }`,
          ...DNAT_CHAINS.map((chain) => `flush chain ${table} ${chain}`),
        ]
      : [];
  return [
    `add table ${table}`,
    `add chain ${table} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${table} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain ${table} guard { type filter hook prerouting priority raw; policy accept; }`,
    ...CHAINS.map((chain) => `flush chain ${table} ${chain}`),
    ...dnat,
    ...networkRules(network, family).map(([chain, rule]) => `add rule ${table} ${chain} ${rule}${comment}`),
  ];
}

function networkMarker(network: UserNetwork): string {
  return `minictr-net-${crypto().createHash('sha256').update(tableLines(network, null).join('\n')).digest('hex').slice(0, 12)}`;
}

/** The network's whole table, as one nft transaction. */
export function networkRuleset(network: UserNetwork): string {
  return `${tableLines(network, networkMarker(network)).join('\n')}\n`;
}

/** Whether the network's table of `family` is in place, with the current marker on every rule. */
function isCurrent(network: UserNetwork, family: Family): boolean {
  let listing = '';
  try {
    listing = nft(`list table ${family} ${networkTableName(network.bridge)}\n`, { terse: true });
  } catch (cause) {
    if (!isMissing(cause)) throw cause;
  }
  return listing.split(`comment "${networkMarker(network)}"`).length - 1 === networkRules(network, family).length;
}

/** Applies the tables unless listings show them, current, on every rule. Returns whether they were applied. */
export async function ensureNetworkTable(network: UserNetwork): Promise<boolean> {
  if (familiesOf(network).every((family) => isCurrent(network, family))) return false;
  nft(networkRuleset(network));
  return true;
}

/** Removes the network's tables (ip, and ip6 for a dual-stack one); absent counts as removed. */
export async function deleteNetworkTable(bridge: string): Promise<void> {
  for (const family of [NFT_FAMILY, 'ip6']) {
    try {
      nft(`delete table ${family} ${networkTableName(bridge)}\n`);
    } catch (cause) {
      if (!isMissing(cause)) throw cause;
    }
  }
}

/** Every network table in the ruleset (reset removes those whose definition is gone too). */
export async function listNetworkTables(): Promise<string[]> {
  const listing = nft(`list tables ${NFT_FAMILY}\nlist tables ip6\n`);
  return [...new Set([...listing.matchAll(/^table ip6? (minictr_mcbr[0-9a-f]{10})$/gm)].map((match) => match[1]!.slice('minictr_'.length)))];
}

/** The mappings a container on a dual-stack network publishes over IPv6: those without a host address (an IPv4 one). */
export function mappings6(mappings: readonly PortMapping[]): PortMapping[] {
  return mappings.filter((mapping) => mapping.hostIp === null);
}

/** The published6 elements of a container's -p mappings over IPv6. */
function elements6(mappings: readonly PortMapping[], address6: string): { key: string; value: string }[] {
  return mappings6(mappings).map((mapping) => ({ key: `${mapping.protocol} . ${mapping.hostPort}`, value: `${address6} . ${mapping.containerPort}` }));
}

/**
 * Publishes a container's ports over IPv6 on its dual-stack network. The host port is this container's (claimed
 * in the ports registry), so an element already under its key is a stale one, of a container gone without its
 * teardown: deleted, and the container's added again.
 */
export function publish6(bridge: string, mappings: readonly PortMapping[], address6: string): void {
  const elements = elements6(mappings, address6);
  if (elements.length === 0) return;
  const map = `ip6 ${networkTableName(bridge)} ${MAP6}`;
  const script = elements.map(({ key, value }) => `add element ${map} { ${key} : ${value} }\n`).join('');
  try {
    nft(script);
  } catch (cause) {
    if (!isElementClash(cause)) throw cause;
    for (const { key } of elements) deleteElement(map, key);
    nft(script);
  }
}

/** Deletes the container's published6 elements; gone (or the table with them) counts as deleted. */
export function unpublish6(bridge: string, mappings: readonly PortMapping[], address6: string): void {
  const map = `ip6 ${networkTableName(bridge)} ${MAP6}`;
  for (const { key, value } of elements6(mappings, address6)) {
    try {
      // Added then deleted in one transaction: deleting an absent element would fail. Another value under the key
      // ("File exists") is another container's element, left alone.
      nft(`add element ${map} { ${key} : ${value} }\ndelete element ${map} { ${key} }\n`);
    } catch (cause) {
      if (!isMissing(cause) && !isElementClash(cause)) throw cause;
    }
  }
}

function deleteElement(map: string, key: string): void {
  try {
    nft(`delete element ${map} { ${key} }\n`);
  } catch (cause) {
    if (!isMissing(cause)) throw cause;
  }
}

/** A published6 element: the bridge of its network, its mapping (no host address) and the container's address. */
export interface Published6 {
  bridge: string;
  mapping: PortMapping;
  address6: string;
}

/** Every published6 element of every dual-stack network's table (gc looks for stale ones). */
export function published6Elements(): Published6[] {
  let listing: string;
  try {
    listing = nft('list tables ip6\n');
  } catch {
    return [];
  }
  return [...listing.matchAll(/^table ip6 minictr_(mcbr[0-9a-f]{10})$/gm)].flatMap(([, bridge]) => {
    let json: string;
    try {
      json = nft(`list map ip6 ${networkTableName(bridge!)} ${MAP6}\n`, { json: true });
    } catch (cause) {
      if (isMissing(cause)) return []; // the network was removed since
      throw cause;
    }
    type Element = [{ concat: [string, number] }, { concat: [string, number] }];
    const items = (JSON.parse(json) as { nftables: { map?: { elem?: Element[] } }[] }).nftables;
    return items.flatMap(({ map }) =>
      (map?.elem ?? []).map(([{ concat: [protocol, hostPort] }, { concat: [address6, containerPort] }]) => ({
        bridge: bridge!,
        mapping: { hostIp: null, protocol: protocol as PortMapping['protocol'], hostPort, containerPort },
        address6,
      })),
    );
  });
}

/** Deletes one published6 element; gone counts as deleted. */
export function deletePublished6({ bridge, mapping }: Published6): void {
  deleteElement(`ip6 ${networkTableName(bridge)} ${MAP6}`, `${mapping.protocol} . ${mapping.hostPort}`);
}
