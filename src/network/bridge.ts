// The shared bridge and IPv4 forwarding: "ensure" operations. Every run makes sure they exist; none removes them
// while containers may use them. Only `minictr system reset` takes them away (hostNetworkRemovals in attach.ts).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { PATHS } from '../paths.js';
import { writeFileNamed } from '../sys/reserved-space.js';
import { BRIDGE, macFor } from './names.js';
import type { BridgeOperation } from './links.js';
import type { Subnet } from './subnet.js';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/** Where the value of ip_forward before minictr first changed it is kept, so reset can put it back. */
const IP_FORWARD_SAVED = PATHS.ipForwardSaved;

/** The bridge named `name` (minictr0, or a user-defined network's) with the gateway address and a fixed MAC (see names.ts). */
export function bridgeOperation(name: string, subnet: Subnet, gateway = subnet.gateway): BridgeOperation {
  return { kind: 'bridge', name, mac: macFor(gateway), address: gateway, prefixLength: subnet.prefixLength };
}

/**
 * Lets packets with a 127.0.0.0/8 source be routed out of the bridge: the host reaching a published port on
 * 127.0.0.1 sends exactly such packets after DNAT, before the masquerade rule rewrites their source. Only `on` while
 * the loopback guard is attached (veth-filter.ts): otherwise it is turned off.
 */
export function setRouteLocalnet(on: boolean, bridge = BRIDGE): void {
  const path = `/proc/sys/net/ipv4/conf/${bridge}/route_localnet`;
  const value = on ? '1' : '0';
  if (readFileSync(path, 'utf8').trim() !== value) writeFileSync(path, `${value}\n`);
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

/** Turns on IPv4 forwarding (a per-network-namespace sysctl), remembering the value it had. */
export function ensureForwarding(): void {
  const current = readFileSync(IP_FORWARD, 'utf8').trim();
  if (current === '1') return;
  if (!existsSync(IP_FORWARD_SAVED)) writeFileNamed(IP_FORWARD_SAVED, `${current}\n`);
  writeFileSync(IP_FORWARD, '1\n');
}

/** Puts ip_forward back to what it was before minictr turned it on. */
export function restoreForwarding(): void {
  if (!existsSync(IP_FORWARD_SAVED)) return;
  writeFileSync(IP_FORWARD, readFileSync(IP_FORWARD_SAVED, 'utf8'));
}
