// `minictr login [SERVER]` and `minictr logout [SERVER]`: credentials for a registry, checked against it before they
// are stored where Docker keeps them (see image/credentials.ts). The password comes from --password-stdin (or -p,
// which, as Docker warns, leaves it in the shell's history).

import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { warn } from '../log.js';
import { forgetCredentials, storeCredentials } from '../image/credentials.js';
import { DOCKER_HUB } from '../image/reference.js';
import { RegistryClient } from '../image/registry.js';

function registryOf(server: string | undefined): string {
  const registry = (server ?? DOCKER_HUB).replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? DOCKER_HUB : registry;
}

export async function login(
  server: string | undefined,
  flags: { username?: string; password?: string; passwordStdin?: boolean; insecureRegistry: string[] },
): Promise<number> {
  const registry = registryOf(server);
  if (flags.username === undefined || flags.username === '') throw new UsageError('login needs --username');
  if (flags.password !== undefined && flags.passwordStdin) throw new UsageError('--password and --password-stdin are mutually exclusive');
  let password = flags.password;
  if (flags.passwordStdin) password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (password === undefined || password === '') throw new UsageError('login needs a password: --password-stdin (or --password)');
  if (flags.password !== undefined) warn('using --password on the command line is insecure; use --password-stdin');
  const credentials = { username: flags.username, password };
  await new RegistryClient(registry, { insecure: flags.insecureRegistry.includes(registry), credentials }).check();
  storeCredentials(registry, credentials);
  process.stdout.write('Login Succeeded\n');
  return 0;
}

export async function logout(server: string | undefined): Promise<number> {
  const registry = registryOf(server);
  if (!forgetCredentials(registry)) throw new UsageError(`not logged in to ${registry}`);
  process.stdout.write(`Removing login credentials for ${registry}\n`);
  return 0;
}
