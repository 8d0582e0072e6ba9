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
      namespaces: Object.keys(NAMESPACES),
      capabilities: Object.keys(CAPABILITIES).map((name) => `CAP_${name}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: true, actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'], operators: ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_LT', 'SCMP_CMP_LE'], archs: ['SCMP_ARCH_X86_64'] },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.minictr.runtime': 'minictr-oci' },
  };
}
