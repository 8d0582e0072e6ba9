// Address leases, the way the CNI host-local IPAM plugin keeps them: one file per address under
// /run/minictr/leases, named by the address and holding the owner's container id, created with O_EXCL. The kernel
// makes the creation atomic, so concurrent runs can never hold the same address and no lock is needed.

import { UsageError } from '../errors.js';
import { shortId } from '../ids.js';
import { Registry } from '../sys/exclusive-file.js';
import { formatIpv4, type Subnet } from './subnet.js';

export class Ipam {
  readonly files: Registry;
  readonly subnet: Subnet;
  /** Addresses never leased besides the subnet's own: a user-defined network's --gateway. */
  private readonly reserved: ReadonlySet<number>;

  constructor(dir: string, subnet: Subnet, reserved: readonly number[] = []) {
    this.files = new Registry(dir);
    this.subnet = subnet;
    this.reserved = new Set(reserved);
  }

  /**
   * Leases `requested` (an address already validated against the subnet), or the lowest free address when it is
   * null. Throws UsageError when the address is held or the subnet is full.
   */
  claim(owner: string, requested: number | null): string {
    if (requested !== null) {
      const address = formatIpv4(requested);
      if (!this.files.claim(address, owner)) throw this.inUse(address);
      return address;
    }
    for (const address of this.freeAddresses()) {
      if (this.files.claim(address, owner)) return address;
    }
    throw this.full();
  }

  /** The address claim() would give now, taking nothing (for --dry-run). */
  peek(requested: number | null): string {
    if (requested !== null) {
      const address = formatIpv4(requested);
      if (this.files.holder(address) !== null) throw this.inUse(address);
      return address;
    }
    const [first] = this.freeAddresses();
    if (first === undefined) throw this.full();
    return first;
  }

  private *freeAddresses(): Generator<string> {
    const held = new Set(this.files.keys()); // names only: a run with 250 leases held reads no lease file
    for (let candidate = this.subnet.firstHost; candidate <= this.subnet.lastHost; candidate++) {
      if (this.reserved.has(candidate)) continue;
      const address = formatIpv4(candidate);
      if (!held.has(address)) yield address;
    }
  }

  private inUse(address: string): UsageError {
    return new UsageError(`address ${address} is already in use by container ${shortId(this.files.holder(address) ?? '(unknown)')}`);
  }

  private full(): UsageError {
    return new UsageError(`no free address left in ${this.subnet.toString()}`);
  }

  holder(address: string): string | null {
    return this.files.holder(address);
  }

  /** Releases `address` if `owner` holds it; a missing lease counts as released. */
  release(owner: string, address: string): void {
    this.files.release(address, owner);
  }

  /** Every lease as [address, owner]. */
  entries(): [string, string][] {
    return this.files.entries();
  }
}
