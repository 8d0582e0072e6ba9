// What a network's resolver knows, pure: the names of the containers on the network (dns/records.ts), and the
// answer to one question from them, or "forward" for a name it does not hold.

import { RCODE_NOERROR, reverseAddress, TYPE_A, TYPE_AAAA, TYPE_PTR, type Answer, type Question } from './message.js';
import type { Endpoint } from './records.js';

/** Answers change as containers come and go: resolvers should not keep them long. */
const TTL = 5;

export interface Zone {
  addresses: Map<string, string[]>;
  /** On a dual-stack network: the names' IPv6 addresses. */
  addresses6: Map<string, string[]>;
  names: Map<string, string>;
  /** --dns of the container at an address. */
  upstreams: Map<string, string[]>;
}

export function buildZone(endpoints: readonly Endpoint[]): Zone {
  const zone: Zone = { addresses: new Map(), addresses6: new Map(), names: new Map(), upstreams: new Map() };
  for (const endpoint of [...endpoints].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const name of endpoint.names) {
      zone.addresses.set(name, [...(zone.addresses.get(name) ?? []), endpoint.address]);
      if (endpoint.address6 !== undefined) zone.addresses6.set(name, [...(zone.addresses6.get(name) ?? []), endpoint.address6]);
    }
    if (endpoint.names[0] !== undefined) zone.names.set(endpoint.address, endpoint.names[0]);
    if (endpoint.dns.length > 0) zone.upstreams.set(endpoint.address, endpoint.dns);
  }
  return zone;
}

/**
 * The answer from the zone: A (and on a dual-stack network AAAA) records of a container's name, PTR of its IPv4
 * address, no data (NOERROR, no records) for other types of a name it holds, so a client asking AAAA of an IPv4-only
 * container does not go on to other servers; 'forward' otherwise.
 */
export function lookup(zone: Zone, question: Question): { rcode: number; answers: Answer[] } | 'forward' {
  const addresses = zone.addresses.get(question.name);
  if (addresses !== undefined) {
    const answers: Answer[] =
      question.type === TYPE_A
        ? addresses.map((address) => ({ type: TYPE_A, address, ttl: TTL }))
        : question.type === TYPE_AAAA
          ? (zone.addresses6.get(question.name) ?? []).map((address) => ({ type: TYPE_AAAA, address, ttl: TTL }))
          : [];
    return { rcode: RCODE_NOERROR, answers };
  }
  const reversed = reverseAddress(question.name);
  const owner = reversed === null ? undefined : zone.names.get(reversed);
  if (owner !== undefined) {
    return { rcode: RCODE_NOERROR, answers: question.type === TYPE_PTR ? [{ type: TYPE_PTR, target: owner, ttl: TTL }] : [] };
  }
  return 'forward';
}

/** The nameservers of a resolv.conf, in order. */
export function nameservers(resolvConf: string): string[] {
  return [...resolvConf.matchAll(/^\s*nameserver\s+([0-9.]+)\s*$/gm)].map((match) => match[1]!);
}
