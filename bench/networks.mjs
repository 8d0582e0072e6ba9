// User-defined networks: start-to-exit of `run /bin/true` on a user-defined network against the default bridge
// (interleaved, so machine noise hits both alike), the network's resolver answering a container's name over the
// loopback path (sequential queries from the host to the gateway, round trip per query), and the resolver's memory.
import { createSocket } from 'node:dgram';
import { cli, median, quantile, round, sh, table, timeOnce } from './lib.mjs';

const MESSAGE = new URL('../dist/network/dns/message.js', import.meta.url).pathname;

/** Round-trip times in ms of `count` sequential A queries for `name` to `server`:53. */
async function queryTimes(server, name, count) {
  const { encodeQuery, parseResponse, TYPE_A } = await import(MESSAGE);
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, resolve));
  const times = [];
  for (let id = 1; id <= count; id++) {
    const start = process.hrtime.bigint();
    const answer = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from ${server} for ${name}`)), 2000);
      socket.once('message', (bytes) => {
        clearTimeout(timer);
        resolve(parseResponse(bytes));
      });
      socket.send(encodeQuery(id, name, TYPE_A), 53, server);
    });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (answer.answers.length !== 1) throw new Error(`unexpected answer for ${name}: ${JSON.stringify(answer)}`);
  }
  socket.close();
  return times;
}

export async function networks({ runs }) {
  const minictr = (...args) => sh([process.execPath, cli, ...args]);
  minictr('network', 'create', 'bench');
  try {
    const variants = [
      { name: 'run /bin/true (default bridge)', argv: [process.execPath, cli, 'run', '--rm', '/bin/true'] },
      { name: 'run --network bench /bin/true (user-defined)', argv: [process.execPath, cli, 'run', '--rm', '--network', 'bench', '/bin/true'] },
    ];
    for (let r = 0; r < 3; r++) for (const variant of variants) timeOnce(variant.argv);
    const samples = variants.map(() => []);
    for (let r = 0; r < runs; r++) variants.forEach((variant, i) => samples[i].push(timeOnce(variant.argv)));
    const rows = variants.map((variant, i) => ({ variant: variant.name, 'median ms': round(median(samples[i])), 'p90 ms': round(quantile(samples[i], 0.9)) }));

    minictr('run', '-d', '--rm', '--network', 'bench', '--name', 'web', '/bin/sleep', '600');
    const [inspected] = JSON.parse(minictr('network', 'inspect', 'bench'));
    const gateway = inspected.IPAM.Config[0].Gateway;
    await queryTimes(gateway, 'web', 100); // warm-up
    const times = await queryTimes(gateway, 'web', 2000);
    const [after] = JSON.parse(minictr('network', 'inspect', 'bench'));
    const dns = {
      'queries': times.length,
      'median ms': round(median(times), 3),
      'p99 ms': round(quantile(times, 0.99), 3),
      'resolver RSS / PSS KiB (idle)': `${inspected.Resolver.RssKiB} / ${inspected.Resolver.PssKiB}`,
      'resolver RSS / PSS KiB (after the queries)': `${after.Resolver.RssKiB} / ${after.Resolver.PssKiB}`,
    };
    const markdown = [
      '## networks: start-up on a user-defined network',
      '',
      table(rows),
      '',
      `## networks: resolver (${gateway}:53, from the host, A for a container's name)`,
      '',
      table([dns]),
    ].join('\n');
    return { markdown, json: { startup: rows, dns } };
  } finally {
    spawnQuiet(minictr, ['rm', '-f', 'web']);
    spawnQuiet(minictr, ['network', 'rm', 'bench']);
  }
}

function spawnQuiet(minictr, args) {
  try {
    minictr(...args);
  } catch {
    // already gone
  }
}
