// The shared bridge and IPv4 forwarding: "ensure" operations. Every run makes sure they exist; none removes them
// while containers may use them. Only `minictr system reset` takes them away (hostNetworkRemovals in attach.ts).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { PATHS } from '../paths.js';
import { writeFileNamed } from '../sys/reserved-space.js';
import { BRIDGE, macFor } from './names.js';
import type { BridgeOperation } from './links.js';
import type { Subnet } from './subnet.js';
import type { Subnet6 } from './subnet6.js';

/**
 * The forwarding sysctls, by family, and where the value each had before minictr first changed it is kept, so
 * reset can put it back. IPv6's is turned on only by a run on a dual-stack network.
 */
const FORWARDING = {
  ipv4: { path: '/proc/sys/net/ipv4/ip_forward', saved: PATHS.ipForwardSaved },
  ipv6: { path: '/proc/sys/net/ipv6/conf/all/forwarding', saved: PATHS.ip6ForwardSaved },
} as const;

/**
 * The bridge named `name` (minictr0, or a user-defined network's) with the gateway address and a fixed MAC (see
 * names.ts), and a dual-stack network's IPv6 gateway.
 */
export function bridgeOperation(name: string, subnet: Subnet, gateway = subnet.gateway, ipv6: { subnet: Subnet6; gateway: bigint } | null = null): BridgeOperation {
  return {
    kind: 'bridge',
    name,
    mac: macFor(gateway),
    address: gateway,
    prefixLength: subnet.prefixLength,
    ...(ipv6 !== null ? { address6: { address: ipv6.gateway, prefixLength: ipv6.subnet.prefixLength } } : {}),
  };
}

/**
 * Lets packets with a 127.0.0.0/8 source be routed out of the bridge: the host reaching a published port on
 * 127.0.0.1 sends exactly such packets after DNAT, before the masquerade rule rewrites their source. Safe because
 * every container's veth carries the loopback guard (veth-filter.ts), attached before the container is released.
 */
export function ensureRouteLocalnet(bridge = BRIDGE): void {
  const path = `/proc/sys/net/ipv4/conf/${bridge}/route_localnet`;
  if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1\n');
}

/**
 * The host learns nothing from the bridge's IPv6 neighbours: a container sending a router advertisement must not
 * give the host a default route or an address through minictr0 (CVE-2020-13401). Docker sets the same.
 */
export function ensureNoRouterAdvertisements(bridge = BRIDGE): void {
  for (const setting of ['accept_ra', 'autoconf']) {
    const path = `/proc/sys/net/ipv6/conf/${bridge}/${setting}`;
    if (!existsSync(path)) return; // IPv6 is disabled on this host: nothing to learn
    if (readFileSync(path, 'utf8').trim() !== '0') writeFileSync(path, '0\n');
  }
}

/** Turns on forwarding (a per-network-namespace sysctl) of `family`, remembering the value it had. */
export function ensureForwarding(family: keyof typeof FORWARDING = 'ipv4'): void {
  const { path, saved } = FORWARDING[family];
  const current = readFileSync(path, 'utf8').trim();
  if (current === '1') return;
  if (!existsSync(saved)) writeFileNamed(saved, `${current}\n`);
  writeFileSync(path, '1\n');
}

/** Puts the forwarding sysctl of `family` back to what it was before minictr turned it on. */
export function restoreForwarding(family: keyof typeof FORWARDING = 'ipv4'): void {
  const { path, saved } = FORWARDING[family];
  if (!existsSync(saved)) return;
  writeFileSync(path, readFileSync(saved, 'utf8'));
}
