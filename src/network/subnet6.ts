// IPv6 addresses and CIDR math for dual-stack networks, pure. Addresses are 128-bit bigints; text is parsed strictly
// (eight groups of at most four hex digits, one "::" at most, an IPv4 tail for the last 32 bits) and formatted as
// RFC 5952 says (lower case, no leading zeros, the longest run of two or more zero groups as "::"), so an address
// has one spelling in leases, rules and records.

const ALL = (1n << 128n) - 1n;

function parseGroups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes('.')) {
      const octets = part.split('.');
      if (octets.length !== 4 || !octets.every((octet) => /^(0|[1-9][0-9]{0,2})$/.test(octet) && Number(octet) <= 255)) return null;
      const [a, b, c, d] = octets.map(Number) as [number, number, number, number];
      groups.push(a * 256 + b, c * 256 + d);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) groups.push(parseInt(part, 16));
    else return null;
  }
  return groups;
}

export function parseIpv6(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...Array<number>(missing).fill(0), ...tail].reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

export function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > best.length) best = { start, length };
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** Ranges no network may take, with why. */
const RESERVED: [string, string][] = [
  ['::/8', 'reserved (unspecified, loopback, IPv4-compatible and IPv4-mapped addresses)'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
];

export class Subnet6 {
  readonly network: bigint;
  readonly prefixLength: number;

  private constructor(network: bigint, prefixLength: number) {
    this.network = network;
    this.prefixLength = prefixLength;
  }

  /** Parses "addr/n", the address being the network's own. /120 at most, so a network has room for containers. */
  static parse(cidr: string): Subnet6 {
    const match = /^([0-9a-fA-F:.]+)\/([0-9]{1,3})$/.exec(cidr);
    const address = match ? parseIpv6(match[1]!) : null;
    const prefixLength = match ? Number(match[2]) : NaN;
    if (address === null || !(prefixLength >= 1 && prefixLength <= 120)) throw new Error(`invalid IPv6 subnet "${cidr}" (an IPv6 network, /1 to /120)`);
    const subnet = new Subnet6(address, prefixLength);
    if ((address & subnet.mask) !== address) throw new Error(`invalid IPv6 subnet "${cidr}": host bits set`);
    return subnet;
  }

  get mask(): bigint {
    return (ALL << BigInt(128 - this.prefixLength)) & ALL;
  }

  get last(): bigint {
    return this.network | (~this.mask & ALL);
  }

  /** The bridge's address, the containers' default gateway: the first after the network's (Docker's choice). */
  get gateway(): bigint {
    return this.network + 1n;
  }

  contains(address: bigint): boolean {
    return (address & this.mask) === this.network;
  }

  overlaps(other: Subnet6): boolean {
    return this.contains(other.network) || other.contains(this.network);
  }

  toString(): string {
    return `${formatIpv6(this.network)}/${this.prefixLength}`;
  }

  /** Why no network may use this subnet (a reserved range it overlaps), or null. */
  reservedReason(): string | null {
    for (const [cidr, why] of RESERVED) if (this.overlaps(Subnet6.parse(cidr))) return `overlaps ${cidr}, ${why}`;
    return null;
  }

  /** Why `address` cannot be given to a container, or null when it can. */
  unusableReason(address: bigint, gateway: bigint): string | null {
    if (!this.contains(address)) return `is outside the network's subnet ${this.toString()}`;
    if (address === this.network) return `is the subnet-router anycast address of ${this.toString()}`;
    if (address === gateway) return `is the gateway (the bridge's own address)`;
    return null;
  }
}
