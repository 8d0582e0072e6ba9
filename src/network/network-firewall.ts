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
// (masquerade out, the same isolation; the bridge's link-local traffic needs no rule). Both go in one transaction.
//
// Like the main base, every rule carries a marker hashing the whole table, so one terse listing tells whether it is
// in place and current (ensureNetworkTable).

import { createHash } from 'node:crypto';
import { isMissing, nft } from './firewall.js';
import { NFT_FAMILY, networkTableName } from './names.js';
import { formatIpv6 } from './subnet6.js';
import { networkIpv6, type UserNetwork } from './networks.js';

const CHAINS = ['postrouting', 'forward', 'guard'] as const;
type Chain = (typeof CHAINS)[number];

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
  return [
    `add table ${table}`,
    `add chain ${table} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${table} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain ${table} guard { type filter hook prerouting priority raw; policy accept; }`,
    ...CHAINS.map((chain) => `flush chain ${table} ${chain}`),
    ...networkRules(network, family).map(([chain, rule]) => `add rule ${table} ${chain} ${rule}${comment}`),
  ];
}

function networkMarker(network: UserNetwork): string {
  return `minictr-net-${createHash('sha256').update(tableLines(network, null).join('\n')).digest('hex').slice(0, 12)}`;
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
