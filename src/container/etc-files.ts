// The three files every container gets in /etc, generated on the host and written by the child into the overlay
// just before exec: hostname, hosts (localhost plus the container's own name and address) and resolv.conf (the
// host's, minus loopback nameservers, which would point at the container's own lo where no resolver listens).

import { readFileSync } from 'node:fs';

export function hostsFile(hostname: string, address: string | null, address6: string | null = null): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  lines.push(`${address ?? '127.0.1.1'}\t${hostname}`);
  if (address6 !== null) lines.push(`${address6}\t${hostname}`); // a dual-stack network's, as Docker writes it
  return `${lines.join('\n')}\n`;
}

function isLoopbackNameserver(line: string): boolean {
  const match = /^\s*nameserver\s+(\S+)/.exec(line);
  return match !== null && (match[1]!.startsWith('127.') || match[1] === '::1');
}

/** The host's resolv.conf without loopback nameservers; where none is left, a comment says why. */
export function containerResolvConf(hostResolvConf: string): string {
  const lines = hostResolvConf.split('\n').filter((line) => !isLoopbackNameserver(line));
  const kept = lines.join('\n').trimEnd();
  if (!/^\s*nameserver\s/m.test(kept)) {
    return `${kept}\n# minictr: the host has only loopback nameservers, which cannot be reached from a container\n`.trimStart();
  }
  return `${kept}\n`;
}

/**
 * The host's resolver configuration. Where /etc/resolv.conf lists only a local stub (systemd-resolved), the
 * upstream list systemd-resolved keeps is the one a container can use.
 */
export function readHostResolvConf(): string {
  const read = (path: string): string | null => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  };
  const main = read('/etc/resolv.conf') ?? '';
  const onlyLoopback = main.split('\n').every((line) => !/^\s*nameserver\s/.test(line) || isLoopbackNameserver(line));
  return onlyLoopback ? (read('/run/systemd/resolve/resolv.conf') ?? main) : main;
}

export function readHostFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * `resolvConf` with its nameserver lines replaced by `servers` and its search line by `search`, each only when
 * given (--dns, --dns-search, or a user-defined network's resolver); options stay.
 */
export function withDnsFlags(resolvConf: string, servers: readonly string[], search: readonly string[]): string {
  let lines = resolvConf.split('\n').filter((line) => line !== '');
  if (servers.length > 0) lines = [...lines.filter((line) => !/^\s*nameserver\s/.test(line) && !line.startsWith('# minictr:')), ...servers.map((server) => `nameserver ${server}`)];
  if (search.length > 0) lines = [`search ${search.join(' ')}`, ...lines.filter((line) => !/^\s*(search|domain)\s/.test(line))];
  return `${lines.join('\n')}\n`;
}
