// Pictures of a NetworkView (view.ts), pure: a text diagram for a terminal and a Graphviz graph
// (`minictr net --format dot | dot -Tpng > net.png`).

import { shortId } from '../ids.js';
import { BRIDGE, NFT_FAMILY, NFT_TABLE, SUBNET_CIDR } from './names.js';
import { describeMapping } from './ports.js';
import type { ContainerView, LinkView, NetworkView } from './view.js';

function linkLabel(link: LinkView): string {
  const addresses = link.addresses.length > 0 ? ` ${link.addresses.join(' ')}` : '';
  return `${link.name} (if ${link.ifindex}${link.hairpin ? ', hairpin' : ''}, ${link.mac}, ${link.state})${addresses}`;
}

function containerTitle(container: ContainerView): string {
  const name = container.name === null ? '' : ` "${container.name}"`;
  return `container ${shortId(container.id)}${name}, pid ${container.pid ?? 'gone'}`;
}

/** The eth0 inside the container whose peer is the host veth, found by ifindex pairing. */
function peerOf(container: ContainerView): LinkView | undefined {
  const host = container.hostVeth;
  return container.links.find((l) => host !== null && l.ifindex === host.peerIfindex && l.peerIfindex === host.ifindex);
}

export function renderText(view: NetworkView): string {
  const bridged = view.containers.filter((c) => c.hostVeth !== null);
  const others = view.containers.filter((c) => c.hostVeth === null);
  const lines = ['host'];
  if (view.bridge === null) lines.push(`└── (no bridge ${BRIDGE} yet: no bridged container has run)`);
  else lines.push(`└── ${linkLabel(view.bridge)}   bridge, the containers' gateway`);
  bridged.forEach((container, i) => {
    const last = i === bridged.length - 1;
    const indent = last ? '        ' : '    │   ';
    const peer = peerOf(container);
    lines.push(`${last ? '    └── ' : '    ├── '}${linkLabel(container.hostVeth!)}`);
    lines.push(`${indent}  ⇅ veth pair`);
    lines.push(`${indent}${peer ? linkLabel(peer) : '(peer not found)'}   in ${containerTitle(container)}`);
    for (const route of container.routes) lines.push(`${indent}  route ${route}`);
    for (const mapping of container.ports) lines.push(`${indent}  publish ${describeMapping(mapping, container.address ?? '?')}`);
  });
  for (const container of others) {
    const own = container.links.map((l) => l.name).join(', ');
    lines.push(`${containerTitle(container)}: not on the bridge (${own ? `own namespace: ${own}` : 'host network'})`);
  }
  if (view.containers.length === 0) lines.push('(no running containers)');
  lines.push('', 'nftables (nft list table ip minictr):', (view.ruleset ?? '(no table)\n').trimEnd());
  return `${lines.join('\n')}\n`;
}

/** A DOT string: quotes and backslashes escaped, line breaks as DOT's \\n. */
const quote = (text: string) => `"${text.replace(/["\\]/g, '\\$&').replace(/\n/g, '\\n')}"`;

/**
 * The host's network namespace as a box: the bridge, each container's host veth, the published ports by host
 * address (0.0.0.0 is every address of the host, 127.0.0.1 loopback only) reaching their container through the
 * bridge by DNAT, and the nftables table masquerading what leaves by the uplink. Each container is a box of its own,
 * joined to its veth by the pair.
 */
export function renderDot(view: NetworkView): string {
  const lines = ['graph minictr {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];', '  edge [fontname="monospace", fontsize=10];'];
  lines.push('  subgraph cluster_host {', '    label="host network namespace";', '    style=rounded;');
  if (view.bridge !== null) {
    lines.push(`    bridge [label=${quote(`${view.bridge.name} (bridge)\n${view.bridge.addresses.join('\n')}`)}];`);
    lines.push(`    nat [shape=note, label=${quote(`nftables: ${NFT_FAMILY} ${NFT_TABLE}\nmasquerade ${SUBNET_CIDR}\nleaving by other interfaces`)}];`, '    bridge -- nat;');
  } else {
    lines.push(`    bridge [label=${quote(`no bridge ${BRIDGE} yet`)}, style=dashed];`);
  }
  view.uplinks.forEach((uplink, u) => {
    const via = uplink.gateway === null ? 'default route' : `default via ${uplink.gateway}`;
    lines.push(`    uplink${u} [label=${quote([uplink.name, ...uplink.addresses, via].join('\n'))}];`, `    nat -- uplink${u} [label="masquerade"];`);
  });
  view.containers.forEach((container, i) => {
    if (container.hostVeth !== null) lines.push(`    veth${i} [label=${quote(container.hostVeth.name)}];`, `    bridge -- veth${i};`);
    container.ports.forEach((mapping, p) => {
      const where = mapping.hostIp === null ? 'every host address' : mapping.hostIp.startsWith('127.') ? 'loopback only' : 'this address only';
      lines.push(`    port${i}_${p} [shape=oval, label=${quote(`${mapping.hostIp ?? '0.0.0.0'}:${mapping.hostPort}/${mapping.protocol}\n(${where})`)}];`);
      lines.push(`    port${i}_${p} -- bridge [style=dashed, label=${quote(`DNAT → ${container.address ?? '?'}:${mapping.containerPort}`)}];`);
    });
  });
  lines.push('  }');
  view.containers.forEach((container, i) => {
    const peer = peerOf(container) ?? container.links.find((l) => l.name !== 'lo');
    lines.push(`  subgraph cluster_${i} {`, `    label=${quote(containerTitle(container))};`);
    const iface = peer === undefined ? 'lo only' : [peer.name, ...peer.addresses].join('\n');
    lines.push(`    eth${i} [label=${quote(iface)}];`, '  }');
    if (container.hostVeth !== null) lines.push(`  veth${i} -- eth${i} [label="veth pair"];`);
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
