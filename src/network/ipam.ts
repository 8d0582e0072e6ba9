// Address leases, the way the CNI host-local IPAM plugin keeps them: one file per address under
// /run/minictr/leases, named by the address and holding the owner's container id, created with O_EXCL. The kernel
// makes the creation atomic, so concurrent runs can never hold the same address and no lock is needed.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { createExclusive, listOwned, ownerOf, removeIfOwned } from '../sys/exclusive-file.js';
import { formatIpv4, type Subnet } from './subnet.js';

export class Ipam {
  readonly dir: string;
  readonly subnet: Subnet;

  constructor(dir: string, subnet: Subnet) {
    this.dir = dir;
    this.subnet = subnet;
  }

  /**
   * Leases `requested` (an address already validated against the subnet), or the lowest free address when it is
   * null. Throws UsageError when the address is held or the subnet is full.
   */
  lease(owner: string, requested: number | null): string {
    mkdirSync(this.dir, { recursive: true });
    if (requested !== null) {
      const address = formatIpv4(requested);
      if (!createExclusive(join(this.dir, address), owner)) throw this.inUse(address);
      return address;
    }
    for (const address of this.freeAddresses()) {
      if (createExclusive(join(this.dir, address), owner)) return address;
    }
    throw this.full();
  }

  /** The address lease() would give now, taking nothing (for --dry-run). */
  peek(requested: number | null): string {
    if (requested !== null) {
      const address = formatIpv4(requested);
      if (ownerOf(join(this.dir, address)) !== null) throw this.inUse(address);
      return address;
    }
    const [first] = this.freeAddresses();
    if (first === undefined) throw this.full();
    return first;
  }

  private *freeAddresses(): Generator<string> {
    const held = new Set(listOwned(this.dir).map(([address]) => address));
    for (let candidate = this.subnet.firstHost; candidate <= this.subnet.lastHost; candidate++) {
      const address = formatIpv4(candidate);
      if (!held.has(address)) yield address;
    }
  }

  private inUse(address: string): UsageError {
    const holder = ownerOf(join(this.dir, address)) ?? '(unknown)';
    return new UsageError(`address ${address} is already in use by container ${holder.slice(0, 12)}`);
  }

  private full(): UsageError {
    return new UsageError(`no free address left in ${this.subnet.toString()}`);
  }

  /** Releases `address` if `owner` holds it; a missing lease counts as released. */
  release(address: string, owner: string): void {
    removeIfOwned(join(this.dir, address), owner);
  }

  /** Every lease as [address, owner]. */
  leases(): [string, string][] {
    return listOwned(this.dir);
  }
}
