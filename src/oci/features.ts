// `minictr-oci features`: the runtime-spec's features document (features.md), saying what config.json may use here.

import { CAPABILITIES } from '../container/capabilities.js';
import { NAMESPACES } from './config.js';
import { OCI_VERSION } from './state.js';

export function features(): object {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'poststart', 'poststop'],
    mountOptions: [
      'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'loud', 'mand', 'noatime', 'nodev',
      'nodiratime', 'noexec', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'private', 'rbind', 'relatime',
      'remount', 'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared', 'silent', 'slave',
      'strictatime', 'suid', 'sync', 'unbindable',
    ],
    linux: {
      namespaces: Object.keys(NAMESPACES).filter((name) => name !== 'user'),
      capabilities: Object.keys(CAPABILITIES).map((name) => `CAP_${name}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.minictr.runtime': 'minictr-oci' },
  };
}
