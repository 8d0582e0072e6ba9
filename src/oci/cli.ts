#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node --
// minictr-oci: an OCI runtime command line, compatible with runc's (what containerd's runc shim, Podman and
// runtime-tools call), over the same library as `minictr run` (docs/oci.md). Errors go to stderr and, with --log,
// to that file as runc writes them ({"level":"error","msg":…,"time":…} with --log-format json), where containerd
// reads them; every failure exits 1, as runc's do.
//
// Its first line drops NODE_EXTRA_CA_CERTS: Node 20 would parse that file (30 ms for a system bundle) at every
// create, start, state and delete, and minictr-oci makes no TLS connection; its hooks get only their own env.

import { appendFileSync, readdirSync } from 'node:fs';
import { Command, Option } from 'commander';
import { messageOf } from '../errors.js';
import { setDebug } from '../log.js';
import { create, kill, parseSignal, remove, start, containerPids } from './container.js';
import { execProcess } from './exec.js';
import { features } from './features.js';
import { DEFAULT_ROOT, OCI_VERSION, ociState, readRecord } from './state.js';

const VERSION = '0.1.0';

interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
  systemdCgroup?: boolean;
}

function logError(globals: Globals | undefined, message: string): void {
  process.stderr.write(`minictr-oci: ${message}\n`);
  if (globals?.log === undefined) return;
  const time = new Date().toISOString();
  const line = globals.logFormat === 'json'
    ? JSON.stringify({ level: 'error', msg: message, time })
    : `time="${time}" level=error msg=${JSON.stringify(message)}`;
  try {
    appendFileSync(globals.log, `${line}\n`);
  } catch {
    // the message is on stderr already
  }
}

function program(): Command {
  const cli = new Command('minictr-oci')
    .description('an OCI runtime (runc-compatible command line) built on minictr')
    .option('--root <dir>', 'state directory', DEFAULT_ROOT)
    .option('--log <file>', 'write errors to this file as well')
    .addOption(new Option('--log-format <format>', 'format of --log').choices(['text', 'json']).default('text'))
    .option('--debug', 'log what is done on stderr')
    .option('--systemd-cgroup', 'accepted for compatibility: cgroups are always managed by writing cgroupfs')
    .option('-v, --version', 'print the version')
    .allowExcessArguments(false)
    // Global options come before the command, as runc's do, so that exec's command keeps its own options.
    .enablePositionalOptions()
    .showHelpAfterError();
  const globals = (): Globals => cli.opts<Globals>();

  cli.command('create <id>').description('create a container from a bundle, stopped before its program')
    .option('-b, --bundle <dir>', 'the bundle directory', '.')
    .option('--pid-file <file>', "write the container's pid here")
    .option('--console-socket <path>', "a Unix socket that receives the terminal's controller (process.terminal)")
    .option('--no-pivot', 'accepted: pivot_root is always used')
    .option('--no-new-keyring', 'accepted: no session keyring is created')
    .option('--preserve-fds <n>', 'pass fds 3 .. 3+N-1 to the container', '0')
    .action(async (id: string, flags: { bundle: string; pidFile?: string; consoleSocket?: string; preserveFds: string }) => {
      await create(globals().root, id, { bundle: flags.bundle, pidFile: flags.pidFile, consoleSocket: flags.consoleSocket, preserveFds: Number(flags.preserveFds) });
    });

  cli.command('start <id>').description("run a created container's program").action(async (id: string) => start(globals().root, id));

  cli.command('state <id>').description("print the container's state (the spec's JSON)").action((id: string) => {
    process.stdout.write(`${JSON.stringify(ociState(globals().root, readRecord(globals().root, id)), null, 2)}\n`);
  });

  cli.command('kill <id> [signal]').description('send a signal (name or number; default SIGTERM)')
    .option('-a, --all', 'to every process of the container')
    .action((id: string, signal: string | undefined, flags: { all?: boolean }) => {
      kill(globals().root, id, parseSignal(signal ?? 'TERM'), flags.all === true);
    });

  cli.command('delete <id>').description('remove a stopped container (--force: kill it first)')
    .option('-f, --force', 'kill a running container first')
    .action(async (id: string, flags: { force?: boolean }) => remove(globals().root, id, flags.force === true));

  cli.command('exec <id> [command...]').description('run a process in a running container').passThroughOptions()
    .option('-p, --process <file>', 'the process as the spec\'s JSON (args, env, cwd, user, capabilities)')
    .option('-d, --detach', 'return once it runs; it outlives this command')
    .option('--pid-file <file>', 'write its pid here')
    .option('-t, --tty', 'a terminal (its controller goes to --console-socket)')
    .option('--console-socket <path>', "with --tty: a Unix socket that receives the terminal's controller")
    .option('-e, --env <KEY=VALUE>', 'an environment variable (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--cwd <dir>', 'working directory', undefined)
    .option('-u, --user <uid[:gid]>', 'the user')
    .action(async (id: string, command: string[], flags: { process?: string; detach?: boolean; pidFile?: string; tty?: boolean; consoleSocket?: string; env: string[]; cwd?: string; user?: string }) => {
      process.exitCode = await execProcess(globals().root, id, {
        processFile: flags.process, args: command, env: flags.env, cwd: flags.cwd, user: flags.user,
        detach: flags.detach === true, pidFile: flags.pidFile, tty: flags.tty === true, consoleSocket: flags.consoleSocket,
      });
    });

  cli.command('ps <id>').description("the container's processes").option('-f, --format <format>', 'table or json', 'table')
    .action((id: string, flags: { format: string }) => {
      const pids = containerPids(readRecord(globals().root, id));
      process.stdout.write(flags.format === 'json' ? `${JSON.stringify(pids)}\n` : `PID\n${pids.join('\n')}\n`);
    });

  cli.command('list').description('list containers').option('-q, --quiet', 'ids only').action((flags: { quiet?: boolean }) => {
    let ids: string[] = [];
    try {
      ids = readdirSync(globals().root);
    } catch {
      // no root yet: no containers
    }
    for (const id of ids) {
      try {
        const state = ociState(globals().root, readRecord(globals().root, id));
        process.stdout.write(flags.quiet === true ? `${id}\n` : `${id}\t${state.pid}\t${state.status}\t${state.bundle}\n`);
      } catch {
        // being created or deleted meanwhile
      }
    }
  });

  cli.command('features').description('what this runtime supports (JSON)').action(() => {
    process.stdout.write(`${JSON.stringify(features(), null, 2)}\n`);
  });

  cli.hook('preAction', () => {
    setDebug(globals().debug === true);
  });
  return cli;
}

async function main(): Promise<void> {
  const cli = program();
  if (process.argv.includes('--version') || process.argv.includes('-v')) {
    process.stdout.write(`minictr-oci version ${VERSION}\nspec: ${OCI_VERSION}\nruntime: minictr ${VERSION}\n`);
    return;
  }
  cli.exitOverride();
  try {
    await cli.parseAsync(process.argv);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return;
    if (code?.startsWith('commander.') === true) {
      process.exitCode = 1;
      return;
    }
    logError(cli.opts<Globals>(), messageOf(cause));
    process.exitCode = 1;
  }
}

await main();
