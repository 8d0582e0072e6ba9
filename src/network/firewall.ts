// minictr's nftables table. Everything minictr adds lives in one table of its own (family ip), so it never touches
// rules it did not create, and reset is a single `delete table`.
//
// Every script goes to libnftables in this process (native/src/nftables.cc): the same text `nft -f -` reads, one
// transaction each, and no nft process on the run path.
//
// The base (chains and rules) is declared in one atomic transaction: "add" table, chains and maps (no-ops when
// present), flush the chains, add the rules. That makes it idempotent and safe under concurrent runs. A run applies
// it only when a listing does not show it, current, on every rule (ensureRuleset): someone may have flushed the
// ruleset or deleted a rule, or an older minictr left other rules. The listing itself is skipped while the
// ruleset's generation id (which every commit anywhere bumps by one) is the one recorded when the base was last
// seen in place, or one of minictr's element commits after it. Per-container data lives only in the two maps,
// which the flush leaves alone:
//
//   published_any    protocol . host port            → container address . container port   (-p 8080:80)
//   published_addr   host address . protocol . port  → container address . container port   (-p 127.0.0.1:8080:80)
//
// so a packet meets the same handful of rules whether 1 or 250 containers publish ports (one hash lookup each),
// and publishing or unpublishing a container's ports is one transaction of map elements.
//
// Unpublishing expires the elements instead of deleting them (the maps have `flags timeout`; a re-add updates an
// element's timeout since Linux 6.12): a deletion leaves the kernel an RCU grace period of work (10-20 ms), which
// the next close of any nftables socket in the namespace waits for, this process's own at its exit included. An
// expired element matches no packet, is listed by nothing but `nft -j` within its last tick, and the kernel's set
// garbage collector frees it later; publishing the same element again (same container address and port) before
// then makes it permanent again. Where the kernel ignores the update, unpublishing deletes (see unpublish).
//
// Guards. Into the bridge, forward only what a container started (iifname), answers to it (established) and
// published ports (ct status dnat): a LAN host with a route to 10.0.0.0/24 through this host reaches no container
// port that is not published. And route_localnet, which loopback clients need, must not let a container reach the
// host's 127.0.0.1 services by sending to 127.x through the gateway: such packets are dropped on arrival (the
// guard chain, at raw priority, before DNAT could make them legitimate).
//
// Container to container traffic on the bridge is not tracked (notrack, same chain): it needs no NAT, the forward
// chain accepts everything a container sends, and conntrack was the largest cost on that path (iperf3: 76 % of a
// plain veth tracked, 85-90 % untracked; see bench/dataplane.mjs). It only matters with br_netfilter and
// bridge-nf-call-iptables=1, when bridged frames pass the IP hooks at all. Traffic to the gateway address stays
// tracked: the replies of masqueraded (hairpin, loopback) connections come back to it and must be de-NATed.
//
// Where each client is caught (kernel DNAT, no userland proxy):
//   another host            prerouting: DNAT to the container; forward accepts DNATed traffic to the bridge
//   the host itself         output: DNAT; a 127.0.0.0/8 source leaving by the bridge is masqueraded (together
//                           with route_localnet on the bridge, see bridge.ts) so the reply finds its way back
//   a container (hairpin)   prerouting: DNAT; the packet goes back to the bridge it came from, so its source is
//                           masqueraded to the gateway, or the peer would answer it directly and the client would
//                           drop a reply from an address it never wrote to. Without br_netfilter the host routes
//                           it; with br_netfilter (bridge-nf-call-iptables=1) the DNAT happens as the bridge
//                           receives the frame and a packet to the sender's own port leaves by the port it came
//                           in by, hence hairpin mode on every bridge port (veth.ts).

import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { debug } from '../log.js';
import { nativeAddon } from '../native/index.js';
import { PATHS } from '../paths.js';
import { crypto } from '../sys/builtins.js';
import { randomBytes } from '../sys/random.js';
import { NFT_FAMILY, NFT_TABLE } from './names.js';
import type { PortMapping, Protocol } from './ports.js';
import { formatIpv4, type Subnet } from './subnet.js';

const TABLE = `${NFT_FAMILY} ${NFT_TABLE}`;
const MAP_ANY = 'published_any';
const MAP_ADDR = 'published_addr';

const CHAINS = ['prerouting', 'output', 'postrouting', 'forward', 'guard'] as const;
type Chain = (typeof CHAINS)[number];

const MAPS: Record<string, string> = {
  [MAP_ANY]: 'type inet_proto . inet_service : ipv4_addr . inet_service; flags timeout;',
  [MAP_ADDR]: 'type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; flags timeout;',
};

/** How an unpublished element expires: a timeout of its own, of which one millisecond (the next tick) is left. */
const EXPIRY = 'timeout 1s expires 1ms';

/** A script that libnftables refused, with the messages nft would have printed. */
export class NftError extends Error {
  readonly messages: string;

  constructor(messages: string) {
    super(`nft: ${messages.trim() || 'failed'}`);
    this.name = 'NftError';
    this.messages = messages;
  }
}

/** nft's answer when a map already holds another element under a key: a stale one (see container/gc.ts). */
export function isElementClash(cause: unknown): boolean {
  return cause instanceof NftError && /File exists/.test(cause.messages);
}

/** nft's answer when the table, map or element to delete or list is not there. */
export const isMissing = (cause: unknown) => cause instanceof NftError && /No such file or directory/.test(cause.messages);

/** Runs an nft script through libnftables, one transaction: all of it or none of it. Returns what nft prints. */
export function nft(script: string, { json = false, terse = false } = {}): string {
  debug(`nft${json ? ' -j' : ''}${terse ? ' -t' : ''} ${JSON.stringify(script)}`);
  const { ok, output, error } = nativeAddon().nftRun(script, json, terse);
  if (!ok) throw new NftError(error);
  return output;
}

/** The load loadNftablesAhead started, settled (a failure is the first nft()'s to report). */
let loadingAhead: Promise<void> = Promise.resolve();

/**
 * Starts loading libnftables on the thread pool (see native/src/nftables.cc), for a run that will call it (-p):
 * the load overlaps the run's next steps, and the first nft() waits for what is left of it. A failure is not
 * reported here: the first nft() meets it and says so.
 */
export function loadNftablesAhead(): void {
  loadingAhead = nativeAddon().nftLoad().catch(() => undefined);
}

/**
 * Settles when no load started by loadNftablesAhead is under way. libnftables opens its netlink socket without
 * close-on-exec and marks it only afterwards: a process spawned meanwhile by node:child_process (the DNS resolver,
 * which outlives the run) would keep it.
 */
export function nftablesLoadSettled(): Promise<void> {
  return loadingAhead;
}

/** Every rule a packet can meet, by chain. */
function baseRules(subnet: Subnet, bridge: string): [Chain, string][] {
  const dnat = [
    `fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @${MAP_ADDR}`,
    `fib daddr type local dnat ip to meta l4proto . th dport map @${MAP_ANY}`,
  ];
  const net = subnet.toString();
  return [
    ...dnat.map((rule): [Chain, string] => ['prerouting', rule]),
    ...dnat.map((rule): [Chain, string] => ['output', rule]),
    ['postrouting', `ip saddr ${net} oifname != "${bridge}" masquerade`],
    ['postrouting', `oifname "${bridge}" ct status dnat ip saddr 127.0.0.0/8 masquerade`],
    ['postrouting', `oifname "${bridge}" ct status dnat ip saddr ${net} masquerade`],
    ['forward', `iifname "${bridge}" accept`],
    ['forward', `oifname "${bridge}" ct state established,related accept`],
    ['forward', `oifname "${bridge}" ct status dnat accept`],
    ['forward', `oifname "${bridge}" drop`],
    ['guard', `iifname "${bridge}" ip daddr 127.0.0.0/8 drop`],
    ['guard', `iifname "${bridge}" ip saddr ${net} ip daddr ${net} ip daddr != ${formatIpv4(subnet.gateway)} notrack`],
  ];
}

/**
 * The base ruleset's declarations and rules, each rule ending with `marker` when one is given. The maps are
 * declared after the flush, where `replaced` maps (declared otherwise by an older minictr, see staleMaps) can be
 * deleted first: no rule refers to them any more.
 */
function baseLines(subnet: Subnet, bridge: string, marker: string | null, replaced: readonly string[] = []): string[] {
  const comment = marker === null ? '' : ` comment "${marker}"`;
  return [
    `add table ${TABLE}`,
    `add chain ${TABLE} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ${TABLE} output { type nat hook output priority -100; policy accept; }`,
    `add chain ${TABLE} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${TABLE} forward { type filter hook forward priority filter; policy accept; }`,
    `add chain ${TABLE} guard { type filter hook prerouting priority raw; policy accept; }`,
    ...CHAINS.map((chain) => `flush chain ${TABLE} ${chain}`),
    ...replaced.map((map) => `delete map ${TABLE} ${map}`),
    ...Object.entries(MAPS).map(([map, declaration]) => `add map ${TABLE} ${map} { ${declaration} }`),
    ...baseRules(subnet, bridge).map(([chain, rule]) => `add rule ${TABLE} ${chain} ${rule}${comment}`),
  ];
}

/** "minictr-base-<12 hex>": names this exact base ruleset (a hash of all of it). */
export function baseMarker(subnet: Subnet, bridge: string): string {
  return markerOf(baseText(subnet, bridge));
}

/** The base ruleset without its markers: what the marker hashes. */
function baseText(subnet: Subnet, bridge: string): string {
  return baseLines(subnet, bridge, null).join('\n');
}

function markerOf(text: string): string {
  return `minictr-base-${crypto().createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/**
 * The base ruleset. Every rule that a packet can meet is here; containers only add map elements. Every rule
 * carries the comment "minictr-base-<hash of the whole ruleset>", so that one listing tells whether the base is in
 * place, complete and current (see ensureRuleset).
 */
export function baseRuleset(subnet: Subnet, bridge: string, replaced: readonly string[] = []): string {
  return `${baseLines(subnet, bridge, baseMarker(subnet, bridge), replaced).join('\n')}\n`;
}

/** minictr's maps that a terse listing of its table shows declared without `flags timeout` (an older minictr's). */
export function staleMaps(listing: string): string[] {
  return Object.keys(MAPS).filter((map) => {
    const declaration = new RegExp(`\\bmap ${map} \\{([^}]*)\\}`).exec(listing);
    return declaration !== null && !/\bflags\b[^\n]*\btimeout\b/.test(declaration[1]!);
  });
}

/**
 * The generation at which the base ruleset `marker` was last seen in place, in network namespace `netns`:
 * /run/minictr/nft-base. Every record written is a fact, so concurrent writers need no lock: the last one wins.
 * `base`, the text the marker hashes (baseText), lets the fast path compare without hashing (node:crypto is not
 * loaded then); a record without it, from an older minictr, is compared by its marker, then given it.
 */
interface Verified {
  netns: string;
  generation: number;
  marker: string;
  base?: string;
  /** Whether element expiry works on kernel `kernel` (see expiryWorks). */
  expiry?: { kernel: string; works: boolean };
}

const verifiedPath = () => join(PATHS.state, 'nft-base');

function readVerified(): Verified | null {
  try {
    const record = JSON.parse(readFileSync(verifiedPath(), 'utf8')) as Partial<Verified>;
    const { netns, generation, marker, base, expiry } = record;
    if (typeof netns !== 'string' || typeof generation !== 'number' || typeof marker !== 'string') return null;
    return {
      netns,
      generation,
      marker,
      ...(typeof base === 'string' ? { base } : {}),
      ...(typeof expiry?.kernel === 'string' && typeof expiry.works === 'boolean' ? { expiry: { kernel: expiry.kernel, works: expiry.works } } : {}),
    };
  } catch {
    return null; // none yet, or cut short by a concurrent write: list instead
  }
}

function writeVerified(record: Verified): void {
  try {
    writeFileSync(verifiedPath(), JSON.stringify(record));
  } catch (cause) {
    debug(`nft: cannot record the verified generation: ${String(cause)}`); // the next run lists instead
  }
}

/** The ruleset's generation now; the same generation means the same ruleset. */
function generation(): { netns: string; generation: number } {
  return nativeAddon().nftGeneration();
}

/**
 * Commits a script of map elements only. When the base was verified at the generation just before it and this
 * commit is the only one since, the base is still in place at the new generation: the record moves along, so the
 * next run need not list. `known`: the generation and the record the caller has just read (ensureRuleset's fast
 * path), not read again.
 */
function commitElements(script: string, known: { before: { netns: string; generation: number }; verified: Verified } | null = null): void {
  const before = known?.before ?? generation();
  nft(script);
  const after = generation();
  const verified = known?.verified ?? readVerified();
  if (verified?.netns === before.netns && verified.generation === before.generation && after.generation === before.generation + 1) {
    writeVerified({ ...verified, generation: after.generation });
  }
}

/**
 * Makes sure the base ruleset is in place, with `lines` (a container's map elements) applied. While the ruleset's
 * generation is the one recorded with the current marker, nothing changed it: the elements are committed, and that
 * is all. Otherwise a terse listing of the table (`-t` leaves the map elements out) must show the current marker
 * on exactly as many rules as the base has, or the base is re-applied with the elements, in one transaction. The
 * generation read before the listing, plus the one commit that follows, is recorded as verified when no other
 * commit came in between. Returns whether the base was applied.
 */
export async function ensureRuleset(subnet: Subnet, bridge: string, lines: readonly string[]): Promise<boolean> {
  const base = baseText(subnet, bridge);
  const elements = lines.map((line) => `${line}\n`).join('');
  // 1. Fast path: the ruleset is where the base was last seen in place.
  const before = generation();
  const verified = readVerified();
  const same = (record: Verified) => (record.base !== undefined ? record.base === base : record.marker === markerOf(base));
  if (verified?.netns === before.netns && verified.generation === before.generation && same(verified)) {
    const record = verified.base === undefined ? { ...verified, base } : verified;
    if (record !== verified) writeVerified(record); // the next run compares without hashing
    if (elements === '') return false;
    try {
      commitElements(elements, { before, verified: record });
      return false;
    } catch (cause) {
      if (!isMissing(cause)) throw cause; // the table went away since: a reset, a firewall reload
    }
  }
  // 2. The listing, and the base with the elements when it is not there, complete and current.
  const listed = generation();
  let listing: string | null;
  try {
    listing = nft(`list table ${TABLE}\n`, { terse: true });
  } catch {
    listing = null;
  }
  const marker = markerOf(base);
  const marked = listing === null ? 0 : listing.split(`comment "${marker}"`).length - 1;
  const current = marked === baseRules(subnet, bridge).length;
  let script = elements;
  if (!current) {
    // Maps declared without `flags timeout` are replaced, with their elements (running containers' ports).
    const replaced = listing === null ? [] : staleMaps(listing);
    const kept = replaced.length === 0 ? [] : (await publishedMappings()).flatMap(({ mapping, address }) => publishLines([mapping], address));
    script = baseRuleset(subnet, bridge, replaced) + [...kept, ...lines].map((line) => `${line}\n`).join('');
  }
  if (script !== '') nft(script);
  // 3. Recorded when nothing but this commit came after the listing's generation.
  const after = generation();
  if (after.netns === listed.netns && after.generation === listed.generation + (script === '' ? 0 : 1)) {
    writeVerified({ netns: after.netns, generation: after.generation, marker, base, ...(verified?.expiry !== undefined ? { expiry: verified.expiry } : {}) });
  }
  return !current;
}

function element(mapping: PortMapping, containerAddress: string): { map: string; key: string; value: string } {
  const key = `${mapping.protocol} . ${mapping.hostPort}`;
  const value = `${containerAddress} . ${mapping.containerPort}`;
  return mapping.hostIp === null ? { map: MAP_ANY, key, value } : { map: MAP_ADDR, key: `${mapping.hostIp} . ${key}`, value };
}

/** Script lines publishing `mappings` to `containerAddress`. */
export function publishLines(mappings: readonly PortMapping[], containerAddress: string): string[] {
  return mappings.map((mapping) => {
    const { map, key, value } = element(mapping, containerAddress);
    return `add element ${TABLE} ${map} { ${key} : ${value} }`;
  });
}

/**
 * A script expiring the elements of `mappings` at the next tick, idempotent: an element that is not there is
 * added, expiring. It fails ("File exists") where another container's element holds the key.
 */
export function unpublishScript(mappings: readonly PortMapping[], containerAddress: string): string {
  return mappings
    .map((mapping) => {
      const { map, key, value } = element(mapping, containerAddress);
      return `add element ${TABLE} ${map} { ${key} ${EXPIRY} : ${value} }\n`;
    })
    .join('');
}

/**
 * A script deleting the elements of `mappings`, idempotent: each element is added then deleted in the same
 * transaction, because deleting an element that is not there fails the whole transaction.
 */
function deleteScript(mappings: readonly PortMapping[], containerAddress: string): string {
  return mappings
    .flatMap((mapping) => {
      const { map, key, value } = element(mapping, containerAddress);
      return [`add element ${TABLE} ${map} { ${key} : ${value} }\n`, `delete element ${TABLE} ${map} { ${key} }\n`];
    })
    .join('');
}

/** A map element as nft -j shows it: [key, {concat: [address, port]}], the key wrapped when it has a timeout. */
type JsonKey = { concat: (string | number)[] } | { elem: { val: { concat: (string | number)[] } } };
type JsonElement = [JsonKey, { concat: [string, number] }];

/** Every mapping in minictr's maps, with the container address it leads to; none when there is no table. */
export async function publishedMappings(): Promise<{ mapping: PortMapping; address: string }[]> {
  let listing: string;
  try {
    listing = nft(`list table ${TABLE}\n`, { json: true });
  } catch {
    return [];
  }
  const items = (JSON.parse(listing) as { nftables: { map?: { name: string; elem?: JsonElement[] } }[] }).nftables;
  return items.flatMap(({ map }) =>
    map === undefined || (map.name !== MAP_ANY && map.name !== MAP_ADDR)
      ? []
      : (map.elem ?? []).flatMap(([keyItem, { concat: [address, containerPort] }]) => {
          const key = 'elem' in keyItem ? keyItem.elem.val.concat : keyItem.concat;
          const [hostIp, protocol, hostPort] = map.name === MAP_ANY ? [null, ...key] : key;
          const mapping = {
            hostIp: typeof hostIp === 'string' ? hostIp : null,
            protocol: PROTOCOL_NAMES[String(protocol)],
            hostPort: Number(hostPort),
            containerPort: Number(containerPort),
          };
          // What cannot be read is left alone: gc deletes what this returns.
          const readable = mapping.protocol !== undefined && Number.isInteger(mapping.hostPort) && typeof address === 'string';
          return readable ? [{ mapping: mapping as PortMapping, address }] : [];
        }),
  );
}

/** nft prints a protocol by name from /etc/protocols, by number on a host without it. */
const PROTOCOL_NAMES: Record<string, Protocol | undefined> = { tcp: 'tcp', udp: 'udp', '6': 'tcp', '17': 'udp' };

/** Adds the elements of `mappings`, in one transaction. */
export async function publish(mappings: readonly PortMapping[], containerAddress: string): Promise<void> {
  commitElements(publishLines(mappings, containerAddress).map((line) => `${line}\n`).join(''));
}

/** One container's published ports, to the container address they lead to. */
export interface Published {
  mappings: readonly PortMapping[];
  address: string;
}

/**
 * Whether this kernel expires an element on a re-add with a timeout (Linux 6.12): null until an unpublish has
 * looked. An older kernel accepts the re-add and ignores it. What the first look found is kept in the record of the
 * verified base with the kernel's release (Verified's expiry), so a later process reads it instead of asking the
 * kernel again: a second libnftables call, with its cache fetch, in every -p teardown.
 */
let expiryWorks: boolean | null = null;

function recordedExpiry(): boolean | null {
  const expiry = readVerified()?.expiry;
  return expiry?.kernel === release() ? expiry.works : null;
}

/** Adds what the look found to the record, when there is one (without one, the next process looks again). */
function recordExpiry(works: boolean): void {
  const verified = readVerified();
  if (verified !== null) writeVerified({ ...verified, expiry: { kernel: release(), works } });
}

/**
 * Elements this process has unpublished ahead of their container's teardown (gc's batch, see unpublishAhead): the
 * teardown, coming to them next, has nothing left to do. Each is forgotten as that teardown passes, and all of them
 * once gc is done (forgetUnpublishedAhead), so a later element with the same key and value (another container's,
 * after the port's release) is never skipped.
 */
const unpublished = new Set<string>();
const elementId = (mapping: PortMapping, address: string) => JSON.stringify([mapping.hostIp, mapping.protocol, mapping.hostPort, mapping.containerPort, address]);

/**
 * Asks the kernel whether a re-add with a timeout expires an element, of an element no other process touches: port
 * 0 (never published) in the address map, on a random 127/8 address. Asked of a container's own element, a
 * concurrent teardown deleting it (`rm -f` beside the monitor's cleanup) would look like an expiry, and a kernel
 * that keeps elements would be recorded as one that expires them. 1. the element, without a timeout; 2. re-added
 * with one; 3. gone, or showing its timeout: the kernel expires it; 4. removed, whatever the answer.
 */
function probeExpiry(): boolean {
  const [a, b, c] = randomBytes(3);
  const key = `127.${a}.${b}.${c} . tcp . 0`;
  const value = '127.0.0.1 . 0';
  commitElements(`add element ${TABLE} ${MAP_ADDR} { ${key} : ${value} }\n`);
  try {
    commitElements(`add element ${TABLE} ${MAP_ADDR} { ${key} ${EXPIRY} : ${value} }\n`);
    try {
      return / timeout /.test(nft(`get element ${TABLE} ${MAP_ADDR} { ${key} }\n`));
    } catch (cause) {
      if (isMissing(cause)) return true;
      throw cause;
    }
  } finally {
    commitElements(`add element ${TABLE} ${MAP_ADDR} { ${key} : ${value} }\ndelete element ${TABLE} ${MAP_ADDR} { ${key} }\n`);
  }
}

/**
 * Removes the elements of containers' published ports, all in one transaction, as unpublishScript does, if the
 * table still exists (reset may have removed it already). The first time on the running kernel, probeExpiry asks
 * whether the kernel expires elements; where it does not, this and every later unpublish deletes instead.
 */
async function unpublishAll(containers: readonly Published[]): Promise<void> {
  const pending = containers.filter(({ mappings }) => mappings.length > 0);
  if (pending.length === 0) return;
  const script = (remove: typeof unpublishScript) => pending.map(({ mappings, address }) => remove(mappings, address)).join('');
  try {
    if (expiryWorks === null) {
      expiryWorks = recordedExpiry();
      if (expiryWorks === null) recordExpiry((expiryWorks = probeExpiry()));
    }
    commitElements(script(expiryWorks ? unpublishScript : deleteScript));
  } catch (cause) {
    if (isMissing(cause) && !tableExists()) return;
    throw cause;
  }
}

/**
 * Unpublishes the ports of containers about to be torn down, in one transaction (gc: `rm -f` of 250 containers
 * is one commit, not 250); their teardowns then skip them. A failure is left to those teardowns, which name the
 * container.
 */
export async function unpublishAhead(containers: readonly Published[]): Promise<void> {
  try {
    await unpublishAll(containers);
  } catch (cause) {
    debug(`nft: unpublish ahead of the teardowns: ${String(cause)}`);
    return;
  }
  for (const { mappings, address } of containers) for (const mapping of mappings) unpublished.add(elementId(mapping, address));
}

/** Forgets what unpublishAhead did: the teardowns it was for are over (or are another process's). */
export function forgetUnpublishedAhead(): void {
  unpublished.clear();
}

/** Removes the elements of one container's published ports (its teardown): see unpublishAll. */
export async function unpublish(mappings: readonly PortMapping[], containerAddress: string): Promise<void> {
  const left = mappings.filter((mapping) => !unpublished.delete(elementId(mapping, containerAddress)));
  await unpublishAll([{ mappings: left, address: containerAddress }]);
}

/** Deletes the elements of `mappings` now (stale ones, gc's removeStalePublished), if the table still exists. */
export async function removePublished(mappings: readonly PortMapping[], containerAddress: string): Promise<void> {
  try {
    commitElements(deleteScript(mappings, containerAddress));
  } catch (cause) {
    if (isMissing(cause) && !tableExists()) return;
    throw cause;
  }
}

function tableExists(): boolean {
  try {
    nft(`list table ${TABLE}\n`, { terse: true });
    return true;
  } catch {
    return false;
  }
}

/** Removes minictr's table and everything in it; absent counts as removed. */
export async function deleteTable(): Promise<void> {
  try {
    nft(`delete table ${TABLE}\n`);
  } catch (cause) {
    if (!isMissing(cause)) throw cause;
  }
}
