// linux.resources on a cgroup v1 host: every controller the spec describes (memory, cpu, cpuset, pids, blkio,
// hugetlb, net_cls, net_prio, devices), as the CgroupDir plans that src/container/cgroups.ts creates, joins and
// removes. `minictr run` needs only memory, cpu and pids (planCgroups); a bundle may ask for all of them. On cgroup
// v2 hosts planCgroups' subset is used (src/oci/container.ts). Pure: paths and values only.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupDir } from '../container/cgroups.js';

interface Device {
  major: number;
  minor: number;
}
export interface Resources {
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; kernelTCP?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string };
  pids?: { limit?: number };
  blockIO?: {
    weight?: number;
    leafWeight?: number;
    weightDevice?: (Device & { weight?: number; leafWeight?: number })[];
    throttleReadBpsDevice?: (Device & { rate: number })[];
    throttleWriteBpsDevice?: (Device & { rate: number })[];
    throttleReadIOPSDevice?: (Device & { rate: number })[];
    throttleWriteIOPSDevice?: (Device & { rate: number })[];
  };
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  devices?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
}

type Files = [string, string][];

/** The files of each controller, in the order they must be written. */
export function v1Files(resources: Resources, parentCpuset: { cpus: string; mems: string }): Map<string, Files> {
  const controllers = new Map<string, Files>();
  const add = (controller: string, name: string, value: number | string | undefined) => {
    if (value === undefined) return;
    const files = controllers.get(controller) ?? [];
    files.push([`${controller}.${name}`, String(value)]);
    controllers.set(controller, files);
  };
  const { memory, cpu, pids, blockIO, network } = resources;
  add('memory', 'limit_in_bytes', memory?.limit);
  add('memory', 'soft_limit_in_bytes', memory?.reservation);
  add('memory', 'memsw.limit_in_bytes', memory?.swap);
  add('memory', 'kmem.limit_in_bytes', memory?.kernel);
  add('memory', 'kmem.tcp.limit_in_bytes', memory?.kernelTCP);
  add('memory', 'swappiness', memory?.swappiness);
  add('memory', 'oom_control', memory?.disableOOMKiller === true ? 1 : undefined);
  add('cpu', 'shares', cpu?.shares);
  add('cpu', 'cfs_period_us', cpu?.period);
  add('cpu', 'cfs_quota_us', cpu?.quota);
  add('cpu', 'rt_period_us', cpu?.realtimePeriod);
  add('cpu', 'rt_runtime_us', cpu?.realtimeRuntime);
  // A new cpuset cgroup has no CPUs and no memory nodes: it gets its parent's unless the config names them.
  if (cpu?.cpus !== undefined || cpu?.mems !== undefined) {
    add('cpuset', 'cpus', cpu.cpus ?? parentCpuset.cpus);
    add('cpuset', 'mems', cpu.mems ?? parentCpuset.mems);
  }
  add('pids', 'max', pids?.limit !== undefined && pids.limit > 0 ? pids.limit : undefined);
  add('blkio', 'weight', blockIO?.weight);
  add('blkio', 'leaf_weight', blockIO?.leafWeight);
  for (const device of blockIO?.weightDevice ?? []) {
    add('blkio', 'weight_device', device.weight === undefined ? undefined : `${device.major}:${device.minor} ${device.weight}`);
    add('blkio', 'leaf_weight_device', device.leafWeight === undefined ? undefined : `${device.major}:${device.minor} ${device.leafWeight}`);
  }
  const throttles = [
    ['throttle.read_bps_device', blockIO?.throttleReadBpsDevice], ['throttle.write_bps_device', blockIO?.throttleWriteBpsDevice],
    ['throttle.read_iops_device', blockIO?.throttleReadIOPSDevice], ['throttle.write_iops_device', blockIO?.throttleWriteIOPSDevice],
  ] as const;
  for (const [name, devices] of throttles) for (const device of devices ?? []) add('blkio', name, `${device.major}:${device.minor} ${device.rate}`);
  for (const page of resources.hugepageLimits ?? []) add('hugetlb', `${page.pageSize}.limit_in_bytes`, page.limit);
  add('net_cls', 'classid', network?.classID);
  for (const priority of network?.priorities ?? []) add('net_prio', 'ifpriomap', `${priority.name} ${priority.priority}`);
  for (const rule of resources.devices ?? []) {
    const number = (value: number | undefined) => (value === undefined || value < 0 ? '*' : String(value));
    add('devices', rule.allow ? 'allow' : 'deny', `${rule.type ?? 'a'} ${number(rule.major)}:${number(rule.minor)} ${rule.access ?? 'rwm'}`);
  }
  // The spec's default devices stay usable whatever the rules say, as runc allows them (and ptys, /dev/pts/*), and
  // mknod of any node, as runc's defaults allow (linux.devices are made in the container's cgroup).
  if (resources.devices !== undefined && resources.devices.length > 0) {
    for (const rule of ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm']) {
      add('devices', 'allow', rule);
    }
  }
  return controllers;
}

/** Where minictr-oci's own process sits in a v1 hierarchy (a relative cgroupsPath is taken under it, as runc does). */
function ownPath(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((entry) => entry.split(':')[1]?.split(',').includes(controller));
  return line?.split(':')[2] ?? '/';
}

/** The v1 plan: one directory per controller with something to write, at cgroupsPath (default minictr-oci/<id>). */
/** linux.devices are usable in the container whatever linux.resources.devices denies, as runc allows them. */
export function allowDevices(resources: Resources, devices: readonly { type: string; major?: number; minor?: number }[]): Resources {
  if (resources.devices === undefined || resources.devices.length === 0) return resources;
  const nodes = devices.filter((device) => device.type !== 'p').map((device) => ({
    allow: true, type: device.type === 'b' ? 'b' : 'c', major: device.major ?? 0, minor: device.minor ?? 0, access: 'rwm',
  }));
  return { ...resources, devices: [...resources.devices, ...nodes] };
}

export function planV1(id: string, resources: Resources, cgroupsPath: string | undefined): CgroupDir[] {
  const root = '/sys/fs/cgroup';
  const readParent = (name: string) => {
    try {
      return readFileSync(join(root, 'cpuset', ownPath('cpuset'), `cpuset.${name}`), 'utf8').trim();
    } catch {
      return '';
    }
  };
  const files = v1Files(resources, { cpus: readParent('cpus'), mems: readParent('mems') });
  const path = cgroupsPath === undefined || cgroupsPath === '' ? join('minictr-oci', id) : cgroupsPath;
  return [...files].map(([controller, list]) => {
    const base = path.startsWith('/') ? join(root, controller) : join(root, controller, ownPath(controller));
    const dir = join(base, path);
    // cpuset: each directory made on the way starts with no CPUs and no memory nodes, and a child cannot have what
    // its parent lacks; those made here get the parent's (createCgroups writes `enable` entries first).
    const enable: [string, string][] = [];
    if (controller === 'cpuset') {
      let ancestor = base;
      for (const part of path.split('/').filter((name) => name !== '').slice(0, -1)) {
        ancestor = join(ancestor, part);
        if (existsSync(ancestor)) continue;
        enable.push([join(ancestor, 'cpuset.cpus'), readParent('cpus')], [join(ancestor, 'cpuset.mems'), readParent('mems')]);
      }
    }
    return { dir, files: list, enable, devices: null };
  });
}
