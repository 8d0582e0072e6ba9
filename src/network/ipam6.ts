// IPv6 address leases of a dual-stack network: the same O_EXCL files as the IPv4 ones (ipam.ts), in a directory of
// their own (leases6), named by the address as formatIpv6 spells it. The lowest free address is taken, from the
// one after the gateway; a /64 is never searched to its end, a network holds far fewer containers.

import { UsageError } from '../errors.js';
import { shortId } from '../ids.js';
import { Registry } from '../sys/exclusive-file.js';
import { formatIpv6, type Subnet6 } from './subnet6.js';

/** How far past the gateway the search for a free address goes. */
const SEARCH_LIMIT = 65536n;

export class Ipam6 {
  readonly files: Registry;

  constructor(
    dir: string,
    readonly subnet: Subnet6,
    private readonly gateway: bigint,
  ) {
    this.files = new Registry(dir);
  }

  /** Leases `requested` (validated against the subnet already), or the lowest free address when it is null. */
  claim(owner: string, requested: bigint | null): string {
    if (requested !== null) {
      const address = formatIpv6(requested);
      if (!this.files.claim(address, owner)) throw this.inUse(address);
      return address;
    }
    for (const address of this.freeAddresses()) if (this.files.claim(address, owner)) return address;
    throw new UsageError(`no free IPv6 address left in ${this.subnet.toString()}`);
  }

  /** The address claim() would give now, taking nothing (for --dry-run). */
  peek(requested: bigint | null): string {
    if (requested !== null) {
      const address = formatIpv6(requested);
      if (this.files.holder(address) !== null) throw this.inUse(address);
      return address;
    }
    const [first] = this.freeAddresses();
    if (first === undefined) throw new UsageError(`no free IPv6 address left in ${this.subnet.toString()}`);
    return first;
  }

  private *freeAddresses(): Generator<string> {
    const held = new Set(this.files.keys());
    const end = this.subnet.network + SEARCH_LIMIT < this.subnet.last ? this.subnet.network + SEARCH_LIMIT : this.subnet.last;
    for (let candidate = this.subnet.network + 1n; candidate <= end; candidate++) {
      if (candidate === this.gateway) continue;
      const address = formatIpv6(candidate);
      if (!held.has(address)) yield address;
    }
  }

  private inUse(address: string): UsageError {
    return new UsageError(`address ${address} is already in use by container ${shortId(this.files.holder(address) ?? '(unknown)')}`);
  }
}
