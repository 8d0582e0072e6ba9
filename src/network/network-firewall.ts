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
// Like the main base, every rule carries a marker hashing the whole table, so one terse listing tells whether it is
// in place and current (ensureNetworkTable).

import { createHash } from 'node:crypto';
import { isMissing, nft } from './firewall.js';
import { NFT_FAMILY, networkTableName } from './names.js';
import type { UserNetwork } from './networks.js';

const CHAINS = ['postrouting', 'forward', 'guard'] as const;
type Chain = (typeof CHAINS)[number];

function networkRules(network: UserNetwork): [Chain, string][] {
  const { bridge, subnet, gateway, internal } = network;
  const rules: [Chain, string][] = [];
  if (!internal) rules.push(['postrouting', `ip saddr ${subnet} oifname != "${bridge}" masquerade`]);
  rules.push(
    ['postrouting', `oifname "${bridge}" ct status dnat ip saddr 127.0.0.0/8 masquerade`],
    ['postrouting', `oifname "${bridge}" ct status dnat ip saddr ${subnet} masquerade`],
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
  rules.push(
    ['guard', `iifname "${bridge}" ip daddr 127.0.0.0/8 drop`],
    ['guard', `iifname "${bridge}" ip saddr ${subnet} ip daddr ${subnet} ip daddr != ${gateway} notrack`],
  );
  return rules;
}

function tableOf(network: UserNetwork): string {
  return `${NFT_FAMILY} ${networkTableName(network.bridge)}`;
}

function tableLines(network: UserNetwork, marker: string | null): string[] {
  const table = tableOf(network);
  const comment = marker === null ? '' : ` comment "${marker}"`;
  return [
    `add table ${table}`,
    `add chain ${table} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${table} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain ${table} guard { type filter hook prerouting priority raw; policy accept; }`,
    ...CHAINS.map((chain) => `flush chain ${table} ${chain}`),
    ...networkRules(network).map(([chain, rule]) => `add rule ${table} ${chain} ${rule}${comment}`),
  ];
}

function networkMarker(network: UserNetwork): string {
  return `minictr-net-${createHash('sha256').update(tableLines(network, null).join('\n')).digest('hex').slice(0, 12)}`;
}

/** The network's whole table, as one nft transaction. */
export function networkRuleset(network: UserNetwork): string {
  return `${tableLines(network, networkMarker(network)).join('\n')}\n`;
}

/** Applies the table unless a listing shows it, current, on every rule. Returns whether it was applied. */
export async function ensureNetworkTable(network: UserNetwork): Promise<boolean> {
  let listing = '';
  try {
    listing = nft(`list table ${NFT_FAMILY} ${networkTableName(network.bridge)}\n`, { terse: true });
  } catch (cause) {
    if (!isMissing(cause)) throw cause;
  }
  if (listing.split(`comment "${networkMarker(network)}"`).length - 1 === networkRules(network).length) return false;
  nft(networkRuleset(network));
  return true;
}

/** Removes the network's table; absent counts as removed. */
export async function deleteNetworkTable(bridge: string): Promise<void> {
  try {
    nft(`delete table ${NFT_FAMILY} ${networkTableName(bridge)}\n`);
  } catch (cause) {
    if (!isMissing(cause)) throw cause;
  }
}

/** Every network table in the ruleset (reset removes those whose definition is gone too). */
export async function listNetworkTables(): Promise<string[]> {
  const listing = nft(`list tables ${NFT_FAMILY}\n`);
  return [...listing.matchAll(/^table ip (minictr_mcbr[0-9a-f]{10})$/gm)].map((match) => match[1]!.slice('minictr_'.length));
}
