// A short name for a text: the markers that tell whether an nftables ruleset in the kernel is exactly the one this
// build writes (network/firewall.ts, network/network-firewall.ts) carry one. It only has to tell minictr's own texts
// apart, and whoever can change the ruleset needs no collision, so it is not cryptographic: node:crypto's SHA-256,
// used before, cost each bridged run about 1.5 ms to load.

/** 48 bits of cyrb53 (two 32-bit multiply-xorshift lanes over the text's UTF-16 units), as 12 hex digits. */
export function textHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ unit, 2654435761);
    h2 = Math.imul(h2 ^ unit, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return ((h2 >>> 0) & 0xffff).toString(16).padStart(4, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
}
