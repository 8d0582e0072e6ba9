// Where minictr keeps what it knows, from two roots: the state root, a tmpfs (/run/minictr: a reboot clears it
// together with every kernel object it describes), and the data root, on disk (/var/lib/minictr: images, and what
// may be too large for a tmpfs). Every path below them is made here, from the roots it is given, so the state layer
// can be exercised in a temporary directory (test/unit/state.test.ts) and nothing else spells a path of its own.

import { join } from 'node:path';

export interface StatePaths {
  /** Root of all state. */
  state: string;
  /** Root of persistent data. It survives a reboot, so gc removes what no container in `state` accounts for. */
  data: string;
  /** One directory per container (container/state.ts). */
  containers: string;
  /** Writable layers, one directory per container id, on disk. */
  layers: string;
  /** The registries (sys/exclusive-file.ts): address leases, --name reservations, published host ports. */
  leases: string;
  names: string;
  ports: string;
  /** Named and anonymous volumes, on disk (volume/store.ts): they outlive containers, reboots and system reset. */
  volumes: string;
  /** `system reset`'s marker (container/reset.ts). */
  resetMarker: string;
  /** ip_forward before minictr first set it (network/bridge.ts). */
  ipForwardSaved: string;
  ip6ForwardSaved: string;
  /** User-defined networks' definitions, one JSON file each, on disk (network/networks.ts). */
  networks: string;
  /** Their running state: leases, DNS records and resolver of each, by name (network/networks.ts). */
  networkState: string;
  /** minictr-cni's attachments and leases, by CNI network name (cni/attachments.ts). */
  cni: string;
}

export function statePaths(state: string, data: string): StatePaths {
  return {
    state,
    data,
    containers: join(state, 'containers'),
    layers: join(data, 'containers'),
    leases: join(state, 'leases'),
    names: join(state, 'names'),
    ports: join(state, 'ports'),
    volumes: join(data, 'volumes'),
    resetMarker: join(state, 'reset'),
    ipForwardSaved: join(state, 'ip_forward.orig'),
    ip6ForwardSaved: join(state, 'ipv6_forwarding.orig'),
    networks: join(data, 'networks'),
    networkState: join(state, 'networks'),
    cni: join(state, 'cni'),
  };
}

/** Root of all state: tmpfs, so a reboot (which also removes every kernel object) clears it too. */
export const STATE_ROOT = '/run/minictr';

/** Root of persistent data. MINICTR_DATA_ROOT moves it (the image tests keep their stores apart). */
export const DATA_ROOT = process.env.MINICTR_DATA_ROOT ?? '/var/lib/minictr';

/** The paths of this host's minictr. */
export const PATHS = statePaths(STATE_ROOT, DATA_ROOT);
