// IPv4 addresses and CIDR math, pure. Addresses are unsigned 32-bit numbers; text is parsed strictly (four decimal
// octets, no leading zeros, which some parsers read as octal).

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

export class Subnet {
  readonly network: number;
  readonly prefixLength: number;

  private constructor(network: number, prefixLength: number) {
    this.network = network;
    this.prefixLength = prefixLength;
  }

  /** Parses "a.b.c.d/n"; the address must be the network address itself. Prefixes /1 to /30 leave room for hosts. */
  static parse(cidr: string): Subnet {
    const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
    const address = match ? parseIpv4(match[1]!) : null;
    const prefixLength = match ? Number(match[2]) : NaN;
    if (address === null || !(prefixLength >= 1 && prefixLength <= 30)) throw new Error(`invalid subnet "${cidr}"`);
    const subnet = new Subnet(address, prefixLength);
    if ((address & subnet.mask) >>> 0 !== address) throw new Error(`invalid subnet "${cidr}": host bits set`);
    return subnet;
  }

  get mask(): number {
    return (0xffffffff << (32 - this.prefixLength)) >>> 0;
  }

  get broadcast(): number {
    return (this.network | ~this.mask) >>> 0;
  }

  /** The bridge's address, which containers use as their default gateway. */
  get gateway(): number {
    return this.network + 1;
  }

  get firstHost(): number {
    return this.network + 2;
  }

  get lastHost(): number {
    return this.broadcast - 1;
  }

  contains(address: number): boolean {
    return (address & this.mask) >>> 0 === this.network;
  }

  toString(): string {
    return `${formatIpv4(this.network)}/${this.prefixLength}`;
  }

  /** Why `address` cannot be given to a container, or null when it can. */
  unusableReason(address: number): string | null {
    if (!this.contains(address)) return `is outside the container subnet ${this.toString()}`;
    if (address === this.network) return `is the network address of ${this.toString()}`;
    if (address === this.broadcast) return `is the broadcast address of ${this.toString()}`;
    if (address === this.gateway) return `is the gateway (the bridge's own address)`;
    return null;
  }
}
