#!/usr/bin/env -S node --
// minictr's command line. It declares the verbs and flags (commander), loads a verb's module only when that verb
// runs (start-up time is most of a short container's cost), and is the only place that turns errors into exit
// codes, Docker's way: 125 when minictr itself fails or the input is bad, 126 when the command cannot be executed,
// 127 when it is not found, otherwise the container's own status.
//
// The `--` in the first line is for Node 20, which looks for `--env-file FILE` anywhere in its argv, even after the
// script: without it, `minictr run --env-file x …` ends in Node's "node: x: not found" and exit 9 when x is
// missing. `node dist/cli.js …` has no such guard; `node -- dist/cli.js …` does, and so does the bin, which execs
// `node -- dist/cli.cjs` (scripts/bundle.mjs).

import './startup.js';
import { Command, CommanderError, Option } from 'commander';
import { MinictrError } from './errors.js';
import { restoreExtraCaCerts } from './extra-ca-certs.js';
import { error, setDebug } from './log.js';
import { loadedAddon } from './native/index.js';
import { flushStdio, setUpStdio } from './stdio.js';
import { rawArgv } from './sys/bytes.js';

const EXIT_MINICTR_FAILED = 125;
const EXIT_CANNOT_EXECUTE = 126;
const EXIT_NOT_FOUND = 127;
/** How every verb that takes containers names them. */
const CONTAINER_REF = 'id, unique id prefix, or name';

/**
 * A commander action that loads its verb's module only when that verb runs, and turns the verb's result into the
 * exit code.
 */
function lazy<A extends unknown[]>(load: () => Promise<(...args: A) => Promise<number>>): (...args: A) => Promise<void> {
  return async (...args) => {
    const verb = await load();
    process.exitCode = await verb(...args);
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function exitCodeFor(failure: unknown): number {
  // Help asked for (`--help`, `help [VERB]`) and --version end with commander's 0; its usage errors with 125.
  if (failure instanceof CommanderError) return failure.exitCode === 0 ? 0 : EXIT_MINICTR_FAILED;
  if (!(failure instanceof MinictrError)) return EXIT_MINICTR_FAILED;
  switch (failure.kind) {
    case 'not-found':
      return EXIT_NOT_FOUND;
    case 'cannot-execute':
      return EXIT_CANNOT_EXECUTE;
    case 'lookup':
      return 1;
    case 'interrupted':
      return 128 + ('signalNumber' in failure ? Number(failure.signalNumber) : 0);
    default:
      return EXIT_MINICTR_FAILED;
  }
}

/**
 * The program with its verbs. `first`, the first argument: a run (every container starts with one) that names `run`
 * first needs no other verb, and declaring them all took it 1.2 ms.
 */
function buildProgram(first?: string): InstanceType<typeof Command> {
  const program = new Command('minictr')
    .description('A small container runtime: namespaces, a root filesystem, a bridge, NAT.')
    .version('0.1.0')
    .option('--debug', 'log every step and host command on stderr')
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .hook('preAction', (command) => setDebug(Boolean(command.optsWithGlobals().debug)));

  program
    .command('run')
    .description('run a command in a new container')
    .usage('[OPTIONS] [--] IMAGE [COMMAND] [ARG...]  |  [OPTIONS] [--] /PATH/COMMAND [ARG...]')
    .helpOption('--help', 'display help for run')
    .argument('[command...]', 'an image and its command, or the absolute path of a program of the busybox rootfs (--rootfs: of that directory)')
    .passThroughOptions()
    .option('--ip <address>', 'IPv4 address in 10.0.0.0/24 (default: the lowest free one)')
    .option('--ip6 <address>', 'IPv6 address on a network created with --ipv6 (default: the lowest free one)')
    .addOption(new Option('--network <mode>', "bridge, none (lo only), host, or a network's name (network create)").default('bridge'))
    .option('--network-alias <name>', "another name of the container in its network's DNS (repeatable)", collect, [])
    .option('--dns <address>', 'a DNS server for the container (repeatable)', collect, [])
    .option('--dns-search <domain>', 'a DNS search domain (repeatable)', collect, [])
    .option('--add-host <name:address>', 'an entry of /etc/hosts; host-gateway: the gateway (repeatable)', collect, [])
    .option('--rootfs <dir>', 'root filesystem directory (default: the busybox rootfs in rootfs/image)')
    .option('--pull <policy>', 'for an image: missing (default), always or never')
    .option('--platform <os/arch[/variant]>', "for an image: the platform to pull (default: this host's)")
    .option('--entrypoint <path>', "for an image: run this instead of the image's entrypoint ('' clears it)")
    .option('-h, --hostname <name>', 'container host name (default: the short container id)')
    .option('--name <name>', 'name the container')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable; KEY alone copies it)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file, one KEY=VALUE per line (repeatable)', collect, [])
    .option('-w, --workdir <dir>', "working directory inside the container (default: the image's, or /)")
    .option(
      '-p, --publish <[ip:][host:]container[/proto]>',
      'publish a container port on the host, e.g. 8080:80, 127.0.0.1:8053:53/udp, 8000-8002:8000-8002, 80 (a host port of the ephemeral range) (repeatable)',
      collect,
      [],
    )
    .option('-P, --publish-all', "publish every exposed port (the image's and --expose) on a host port of the ephemeral range")
    .option('--expose <port[/proto]>', 'expose a port or range, e.g. 80 or 8000-8002/udp, for -P (repeatable)', collect, [])
    .option('--stop-signal <signal>', "the signal stop sends first (default: the image's StopSignal, or SIGTERM)")
    .option('-m, --memory <size>', 'memory limit, e.g. 64m or 1g (cgroup)')
    .option('--memory-swap <size>', 'memory plus swap limit; -1: unlimited swap (default: twice --memory)')
    .option('--cpus <number>', 'CPU quota, e.g. 0.5 (cgroup)')
    .option('--pids-limit <number>', 'maximum number of processes (cgroup)')
    .option('-u, --user <user[:group]>', 'run as this user (a number, or a name from the rootfs /etc/passwd)')
    .option('--read-only', 'mount the root filesystem read-only')
    .option('--privileged', 'give the container all capabilities, every device and unmasked kernel paths')
    .option('--cap-add <capability>', 'keep a capability beyond the default set (repeatable, or ALL)', collect, [])
    .option('--cap-drop <capability>', 'drop a capability of the default set (repeatable, or ALL)', collect, [])
    .option('--device <host[:container[:perms]]>', 'make a host device available, e.g. /dev/fuse or /dev/zero:/dev/z:r (repeatable)', collect, [])
    .option('-v, --volume <src:dst[:ro]>', 'bind a host path (HOST:CTR, created if missing), a named volume (NAME:CTR) or a new anonymous volume (CTR) (repeatable)', collect, [])
    .option('--mount <type=…,source=…,target=…>', 'type=bind|volume|tmpfs, source, target, readonly, volume-nocopy, tmpfs-size, tmpfs-mode (repeatable)', collect, [])
    .option('--tmpfs <dst[:size=…,mode=…]>', 'mount a tmpfs (nosuid, nodev, noexec) on a container path (repeatable)', collect, [])
    .option('-d, --detach', 'run in the background: print the container id and return; see logs, ps, stop, rm')
    .option('--rm', 'remove the container when it exits (otherwise it is kept, exited, until rm)')
    .option('--log-opt <key=value>', 'with -d, rotation of the log: max-size=SIZE (default 10m), max-file=N (default 3)', collect, [])
    .option('--init', 'run minictr-init as PID 1: it forwards signals to the command and reaps orphaned processes')
    .option('-t, --tty', 'give the container a pseudo-terminal')
    .option('-i, --interactive', "with -t, send minictr's stdin to the container (without -t it always reads it)")
    .option('--explain', 'print each step on stderr as it happens: what, with which command, and why')
    .option('--dry-run', 'change nothing; print a shell script that does what this run would do, step by step')
    .option('--step', 'stop before each step, say what it does and how to look at it, go on when Enter is pressed')
    .option('--timings [format]', 'when the container exits, print how long each step took on stderr: text or json')
    .action(lazy(async () => (await import('./commands/run.js')).run));
  if (first === 'run') return program;

  program
    .command('cleanup', { hidden: true })
    .description("tear down a detached container whose PID 1 exited (run by its minictr-monitor)")
    .argument('<id>', 'full container id')
    .action(lazy(async () => (await import('./commands/cleanup.js')).cleanup));

  program
    .command('gc')
    .description('clean up after containers whose minictr process died')
    .action(lazy(async () => (await import('./commands/gc.js')).gc));

  program
    .command('ps')
    .description('list running containers (-a: also exited ones)')
    .option('-a, --all', 'also containers that have exited')
    .option('-q, --quiet', 'only the short ids')
    .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']).default('table'))
    .action(lazy(async () => (await import('./commands/ps.js')).ps));

  program
    .command('inspect')
    .description('show containers as JSON: record, status, process, address, ports, host objects')
    .argument('<container...>', CONTAINER_REF)
    .action(lazy(async () => (await import('./commands/inspect.js')).inspect));

  program
    .command('port')
    .description("list a container's published ports, or the host address of one of them")
    .argument('<container>', CONTAINER_REF)
    .argument('[private_port]', 'PORT[/tcp|udp]')
    .action(lazy(async () => (await import('./commands/port.js')).port));

  program
    .command('kill')
    .description("send a signal to containers' PID 1 (default SIGKILL)")
    .argument('<container...>', CONTAINER_REF)
    .option('-s, --signal <signal>', 'signal name or number', 'KILL')
    .action(lazy(async () => (await import('./commands/signal.js')).kill));

  program
    .command('stop')
    .description('stop containers: SIGTERM, then SIGKILL after the grace time')
    .argument('<container...>', CONTAINER_REF)
    .option('-t, --time <seconds>', 'grace time before SIGKILL', '10')
    .action(lazy(async () => (await import('./commands/signal.js')).stop));

  program
    .command('exec')
    .description("run a command in a running container: its namespaces, root, cgroup, environment and profile")
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .argument('<container>', CONTAINER_REF)
    .argument('[command...]', 'the program to run and its arguments')
    .passThroughOptions()
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--env-file <file>', 'read environment variables from a file, one KEY=VALUE per line (repeatable)', collect, [])
    .option('-w, --workdir <dir>', "working directory (default: the container's)")
    .option('-u, --user <user[:group]>', "run as this user (default: the container's)")
    .option('-t, --tty', 'give the process a pseudo-terminal')
    .option('-i, --interactive', "with -t, send minictr's stdin to it (without -t it always reads it)")
    .action(lazy(async () => (await import('./commands/exec.js')).exec));

  program
    .command('rm')
    .description('remove exited containers (-f: running ones too, killing them first)')
    .argument('<container...>', CONTAINER_REF)
    .option('-f, --force', 'kill a running container first')
    .option('-v, --volumes', 'also remove the anonymous volumes of the containers')
    .action(lazy(async () => (await import('./commands/rm.js')).rm));

  program
    .command('cp')
    .description("copy files between a running container and the host (CONTAINER:PATH on one side, as docker cp)")
    .usage('CONTAINER:SRC_PATH DEST_PATH  |  SRC_PATH CONTAINER:DEST_PATH')
    .argument('<source>', 'CONTAINER:PATH or a host path')
    .argument('<destination>', 'CONTAINER:PATH or a host path')
    .action(lazy(async () => (await import('./commands/cp.js')).cp));

  const volume = program.command('volume').description('manage named volumes (/var/lib/minictr/volumes)');
  volume
    .command('create')
    .description('create a volume (default name: 64 random hex digits); prints its name')
    .argument('[name]', 'volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+')
    .action(lazy(async () => (await import('./commands/volume.js')).create));
  volume
    .command('ls')
    .description('list volumes: DRIVER, VOLUME NAME')
    .option('-q, --quiet', 'only the names')
    .action(lazy(async () => (await import('./commands/volume.js')).ls));
  volume
    .command('inspect')
    .description('show volumes as JSON')
    .argument('<name...>', 'volume name')
    .action(lazy(async () => (await import('./commands/volume.js')).inspect));
  volume
    .command('rm')
    .description('remove volumes (refused while a container, even exited, uses one)')
    .argument('<name...>', 'volume name')
    .option('-f, --force', 'no error for a volume that does not exist')
    .action(lazy(async () => (await import('./commands/volume.js')).rm));
  volume
    .command('prune')
    .description('remove anonymous volumes no container uses (-a: every unused volume)')
    .option('-a, --all', 'named volumes too')
    .action(lazy(async () => (await import('./commands/volume.js')).prune));

  program
    .command('logs')
    .description("print a detached container's output (stdout to stdout, stderr to stderr)")
    .argument('<container>', CONTAINER_REF)
    .option('-f, --follow', 'keep printing new output until the container exits')
    .option('-t, --timestamps', 'prefix each line with the time it was written')
    .action(lazy(async () => (await import('./commands/logs.js')).logs));

  program
    .command('pull')
    .description('download an image from a registry')
    .argument('<image>', 'reference: nginx, nginx:1.27, 127.0.0.1:5000/demo/web:1, redis@sha256:…')
    .option('--platform <os/arch[/variant]>', "the platform's manifest to take from a multi-platform image (default: this host's)")
    .option('--insecure-registry <host[:port]>', 'speak plain HTTP to this registry (loopback registries always are; repeatable)', collect, [])
    .option('-q, --quiet', 'no progress, only the reference')
    .action(lazy(async () => (await import('./commands/pull.js')).pull));

  program
    .command('login')
    .description('log in to a registry (default: Docker Hub); credentials are kept in ~/.docker/config.json')
    .argument('[server]', 'registry host[:port]')
    .option('-u, --username <name>', 'user name')
    .option('-p, --password <password>', 'password (insecure: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from stdin')
    .option('--insecure-registry <host[:port]>', 'speak plain HTTP to this registry (repeatable)', collect, [])
    .action(lazy(async () => (await import('./commands/login.js')).login));

  program
    .command('logout')
    .description('forget the credentials of a registry (default: Docker Hub)')
    .argument('[server]', 'registry host[:port]')
    .action(lazy(async () => (await import('./commands/login.js')).logout));

  program
    .command('images')
    .description('list the images in the store')
    .option('-q, --quiet', 'only the image ids')
    .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']).default('table'))
    .action(lazy(async () => (await import('./commands/images.js')).images));

  program
    .command('rmi')
    .description('remove images (refused while a container uses one; -f: also an exited container\'s, or every name of an id)')
    .argument('<image...>', 'reference or image id (a unique prefix)')
    .option('-f, --force', 'remove an image an exited container uses; remove every name of an image id')
    .action(lazy(async () => (await import('./commands/rmi.js')).rmi));

  program
    .command('load')
    .description('load images from a docker save or OCI image-layout archive (tar, gzip or zstd)')
    .option('-i, --input <file>', 'read from this file instead of stdin')
    .option('--platform <os/arch[/variant]>', "the platform's manifest to take from a multi-platform image (default: this host's)")
    .action(lazy(async () => (await import('./commands/load.js')).load));

  program
    .command('save')
    .description('save images to an archive (docker save format with an OCI image layout, as Docker 25+)')
    .argument('<image...>', 'reference or image id')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(lazy(async () => (await import('./commands/save.js')).save));

  program
    .command('import')
    .description('create a one-layer image from a root filesystem tar (tar, gzip or zstd; - for stdin)')
    .argument('<file>', 'the tar, or - for stdin')
    .argument('<reference>', 'name of the new image, e.g. demo/rootfs:v1')
    .action(lazy(async () => (await import('./commands/import.js')).importImage));

  const network = program.command('network').description('manage user-defined networks (/var/lib/minictr/networks)');
  network
    .command('create')
    .description("create a network: its own bridge, subnet, NAT and DNS resolver; prints its id")
    .argument('<name>', 'network name: [a-zA-Z0-9][a-zA-Z0-9_.-]*')
    .option('--subnet <cidr>', 'IPv4 subnet (default: the first free 10.89.N.0/24); again with --ipv6 for the IPv6 one (default: the first free fd89:0:0:N::/64)', collect, [])
    .option('--ipv6', 'dual stack: an IPv6 subnet too')
    .option('--gateway <address>', "the bridge's address in the subnet (default: its first)")
    .option('--internal', 'no route out: nothing forwarded to or from other interfaces')
    .action(lazy(async () => (await import('./commands/network.js')).create));
  network
    .command('ls')
    .description('list networks: NETWORK ID, NAME, DRIVER, SCOPE, SUBNET')
    .option('-q, --quiet', 'only the ids')
    .action(lazy(async () => (await import('./commands/network.js')).ls));
  network
    .command('inspect')
    .description('show networks as JSON, with their containers and resolver')
    .argument('<name...>', 'network name')
    .action(lazy(async () => (await import('./commands/network.js')).inspect));
  network
    .command('rm')
    .description('remove networks (refused while a container is on one)')
    .argument('<name...>', 'network name')
    .option('-f, --force', 'no error for a network that does not exist')
    .action(lazy(async () => (await import('./commands/network.js')).rm));
  network
    .command('connect')
    .description('connect a running container to a network: one more interface, eth1, eth2…')
    .argument('<network>', 'network name')
    .argument('<container>', CONTAINER_REF)
    .option('--ip <address>', 'its address there (default: the lowest free one)')
    .option('--alias <name>', "another name of the container in the network's DNS (repeatable)", collect, [])
    .action(lazy(async () => (await import('./commands/network.js')).connect));
  network
    .command('disconnect')
    .description('disconnect a running container from a network it was connected to')
    .argument('<network>', 'network name')
    .argument('<container>', CONTAINER_REF)
    .action(lazy(async () => (await import('./commands/network.js')).disconnect));
  network
    .command('prune')
    .description('remove every network no container is on')
    .option('-f, --force', 'do not ask for confirmation (minictr never asks)')
    .action(lazy(async () => (await import('./commands/network.js')).prune));

  program
    .command('net')
    .description("show minictr's network: bridge, veth pairs, containers' addresses and routes, nftables rules")
    .addOption(new Option('--format <format>', "text (a diagram), json, dot (Graphviz) or svg (with Graphviz's dot installed)").choices(['text', 'json', 'dot', 'svg']).default('text'))
    .action(lazy(async () => (await import('./commands/net.js')).net));

  program
    .command('doctor')
    .description('check what on this host would stop containers from working, and how to fix it')
    .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action(lazy(async () => (await import('./commands/doctor.js')).doctor));

  // `image ls|pull|load|save|import|rm`: Docker's management-command names, each the same verb parsed anew.
  const image = program.command('image').description('manage images: ls, pull, load, save, import, rm, prune');
  for (const [alias, verb] of [['ls', 'images'], ['pull', 'pull'], ['load', 'load'], ['save', 'save'], ['import', 'import'], ['rm', 'rmi']]) {
    image
      .command(alias!)
      .description(`the same as minictr ${verb}`)
      .helpOption(false)
      .allowUnknownOption()
      .argument('[arguments...]')
      .action(async (args: string[]) => void (await buildProgram().parseAsync([verb!, ...args], { from: 'user' })));
  }
  image
    .command('prune')
    .description('remove dangling images (-a: every image no container uses)')
    .option('-a, --all', 'remove every image no container uses, not only dangling ones')
    .option('-f, --force', 'do not ask for confirmation (minictr never asks)')
    .action(lazy(async () => (await import('./commands/rmi.js')).prune));

  const system = program.command('system').description('manage minictr on this host');
  system
    .command('reset')
    .description('remove everything minictr created on this host (refused while containers run)')
    .action(lazy(async () => (await import('./commands/system.js')).reset));

  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    const program = buildProgram(argv[2]);
    // `minictr` alone prints its help on stdout and succeeds, as docker does (commander would call it an error).
    if (argv.length <= 2) {
      program.outputHelp();
      return;
    }
    await program.parseAsync(argv);
  } catch (failure) {
    // commander has already printed its own errors (unknown flag, missing argument) and help.
    if (!(failure instanceof CommanderError)) {
      error(failure instanceof Error ? failure.message : String(failure));
      if (process.env.MINICTR_DEBUG === '1' && failure instanceof Error) process.stderr.write(`${failure.stack}\n`);
    }
    process.exitCode = exitCodeFor(failure);
  }
}

setUpStdio();
restoreExtraCaCerts();

// Node decoded the arguments as UTF-8, replacing bytes that are not; the container gets them as they were. No
// top-level await: the bundle is a CommonJS script (scripts/bundle.mjs), so V8 can cache its compiled code.
void (async () => {
  await main(rawArgv(process.argv));
  // The verb is done (for `run`, the container is torn down): exit now, once stdout and stderr are flushed. Node's
  // own shutdown would free the environment and the heap piece by piece first, milliseconds the caller waits for.
  await flushStdio();
  // After the 'exit' listeners (the launcher's code cache), Node's own exit took 2 ms more: where the addon is
  // loaded, it ends the process then. Not when Node has options or NODE_OPTIONS of its own: a CPU profile, a heap
  // profile or coverage is written during that exit.
  const addon = loadedAddon();
  const { NODE_OPTIONS, NODE_V8_COVERAGE } = process.env;
  if (addon !== undefined && process.execArgv.length === 0 && NODE_OPTIONS === undefined && NODE_V8_COVERAGE === undefined) {
    process.once('exit', (code) => addon.exitNow(code));
  }
  process.exit();
})();
