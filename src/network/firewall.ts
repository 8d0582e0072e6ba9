// minictr's nftables table. Everything minictr adds lives in one table of its own (family ip), so it never touches
// rules it did not create, and reset is a single `delete table`. The base rules are re-declared by every run in one
// atomic `nft -f -` transaction: "add" table and chains (no-ops when present), flush the chains, add the rules. That
// makes the operation idempotent and safe under concurrent runs, and keeps per-container data (later: published
// ports) in sets and maps the flush does not touch.

import { runCommand, CommandError } from '../sys/command.js';
import { NFT_FAMILY, NFT_TABLE } from './names.js';
import type { Subnet } from './subnet.js';

const TABLE = `${NFT_FAMILY} ${NFT_TABLE}`;

/** The base ruleset: masquerade the subnet's traffic leaving by any other interface; accept forwarding for it. */
export function baseRuleset(subnet: Subnet, bridge: string): string {
  return [
    `add table ${TABLE}`,
    `add chain ${TABLE} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${TABLE} forward { type filter hook forward priority filter; policy accept; }`,
    `flush chain ${TABLE} postrouting`,
    `flush chain ${TABLE} forward`,
    `add rule ${TABLE} postrouting ip saddr ${subnet.toString()} oifname != "${bridge}" masquerade`,
    `add rule ${TABLE} forward iifname "${bridge}" accept`,
    `add rule ${TABLE} forward oifname "${bridge}" ct state established,related accept`,
    '',
  ].join('\n');
}

/** Applies an nft script as one transaction: all of it or none of it. */
export async function applyRuleset(script: string): Promise<void> {
  await runCommand(['nft', '-f', '-'], script);
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
