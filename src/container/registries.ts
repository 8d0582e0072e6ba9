// The three registries of a host's minictr, all of one shape (sys/exclusive-file.ts's Registry): address leases,
// --name reservations and published host ports, each a directory under the state root.

import { Ipam } from '../network/ipam.js';
import { SUBNET_CIDR } from '../network/names.js';
import { PortRegistry } from '../network/ports.js';
import { Subnet } from '../network/subnet.js';
import { PATHS, type StatePaths } from '../paths.js';
import { NameRegistry } from './names.js';

export function leases(paths: StatePaths = PATHS): Ipam {
  return new Ipam(paths.leases, Subnet.parse(SUBNET_CIDR));
}

export function ports(paths: StatePaths = PATHS): PortRegistry {
  return new PortRegistry(paths.ports);
}

export function names(paths: StatePaths = PATHS): NameRegistry {
  return new NameRegistry(paths.names);
}
