// Bundles the command line into one file, dist/minictr.cjs, with esbuild, after `tsc` has type-checked and compiled
// src/ into dist/ (the tests import some of those files directly); minictr-oci and minictr-cni are bundled the same
// way, as ES modules. Start-up is most of a short container's cost, and Node 20 loads ES modules one promise chain
// per file: one file holding commander and every module `run` needs loads in a fraction of the time of the 40 files
// it replaces. dist/cli.cjs, a launcher, compiles the bundle with V8's code cache (cachedLauncher below), so that V8
// does not compile it again at every start, on Node 20 too; dist/cli.js, the bin, replaces tsc's compiled src/cli.ts
// with a shell script that runs it (shellLauncher below).
//
// 1. What `run` does not need is still not run: a verb's module, the image registry client, --dry-run's script
//    writer are dynamic import()s in the source, which esbuild turns into functions that evaluate the module on first
//    use. V8 only pre-parses their code.
// 2. execa (doctor, gc's repairs, `net --format svg`; 250 KB, no code shared with minictr's) goes into its own file,
//    dist/execa.js, imported on first use: `run` does not even read it.
// 3. The native addon stays where node-gyp builds it (native/build), loaded at run time by src/native/index.ts.
// 4. Every module keeps the import.meta.url its tsc-compiled file has (dist/<path>.js): paths relative to it (the
//    addon and helpers in native/build, the rootfs, dist/cli.js for minictr-monitor's cleanup) resolve as before.
//    In minictr's bundle they are joined as paths, and its modules' createRequire() is the bundle's require: the
//    first URL, its first createRequire and node:module cost a run 0.5-0.8 ms (scriptPaths below).
// 5. commander's require of node:child_process waits for its first use (commanderWithoutChildProcess below).
// 6. minictr's bundle is ASCII only (asciiOnly below), so that its launcher reads it as latin1: a copy of its bytes
//    into a one-byte string, where reading it as UTF-8 decodes it (0.7 ms against 1.1 for 620 KB; 1.6 ms while
//    two characters of its comments made it a two-byte string).
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}src/`;
const dist = `${root}dist/`;

const common = { bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'none' };
// minictr's bundle is a script: one function of its file name and a require(), with the two helpers of step 4.
// A script's import() needs --experimental-vm-modules on Node 20: esbuild makes each a require(), execa's too
// (step 2; Node 20.19+ requires an ES module without top-level await).
const scriptHelpers = [
  "const __minictrPath = (dir, relative) => require('node:path').join(__filename, '..', dir, relative);",
  'const __minictrRequire = require;',
];
const scriptOptions = {
  format: 'cjs',
  charset: 'ascii',
  supported: { 'dynamic-import': false },
  banner: { js: ["(function (__filename, require) { 'use strict';", ...scriptHelpers].join(' ') },
  footer: { js: '})' },
};
// CommonJS dependencies (commander, execa's) require() Node's built-in modules: give the ES module a require().
const requireBanner = "import { createRequire as __minictrRequire } from 'node:module'; const require = __minictrRequire(import.meta.url);";

/**
 * Step 4: import.meta.url in src/X.ts becomes the URL of dist/X.js, relative to the bundle's own URL. In the
 * script (`scriptPaths`), without a URL where a path is what the module makes of it: `fileURLToPath(new URL(R,
 * import.meta.url))` becomes dist/X.js's directory joined with R (the same path: R is a relative path, not a URL
 * with a query or escapes), `createRequire(import.meta.url)` the bundle's require (the launcher's, beside it in
 * dist/: the modules that make one require built-in modules and absolute paths, which resolve alike from there).
 * Another use of import.meta.url there fails the build.
 */
function distModuleUrl({ scriptPaths }) {
  return {
    name: 'dist-module-url',
    setup(build) {
      build.onLoad({ filter: /\/src\/.*\.ts$/ }, async ({ path }) => {
        const compiled = `./${relative(src, path).replace(/\.ts$/, '.js')}`;
        const source = await readFile(path, 'utf8');
        if (!scriptPaths) {
          return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(compiled)}, import.meta.url).href`), loader: 'ts' };
        }
        const contents = source
          .replace(/fileURLToPath\(new URL\(([^(),]+), import\.meta\.url\)\)/g, (_, relativePath) => `__minictrPath(${JSON.stringify(dirname(compiled))}, ${relativePath})`)
          .replaceAll('createRequire(import.meta.url)', '__minictrRequire');
        if (contents.includes('import.meta.url')) {
          throw new Error(`${path}: in minictr's bundle, import.meta.url only as fileURLToPath(new URL(R, import.meta.url)) or createRequire(import.meta.url) (step 4)`);
        }
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * Step 6: esbuild's `charset: 'ascii'` escapes every other character of the code, but writes the comments it keeps
 * as they are: theirs become `\u{…}` text. The launcher reads the bundle as latin1, which would garble any left.
 */
async function asciiOnly(file) {
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace(/[^\0-\x7f]/gu, (char) => `\\u{${char.codePointAt(0).toString(16)}}`));
}

/** Step 2: `import('execa')` becomes `import('./execa.js')`, the file built below. */
const execaApart = {
  name: 'execa-apart',
  setup(build) {
    build.onResolve({ filter: /^execa$/ }, () => ({ path: './execa.js', external: true }));
  },
};

/**
 * Step 5: commander requires node:child_process (with net, dgram, streams: about 2.5 ms) for one thing minictr
 * never uses, subcommands that are programs of their own; it is required on that first use instead.
 */
const commanderWithoutChildProcess = {
  name: 'commander-without-child-process',
  setup(build) {
    build.onLoad({ filter: /[/\\]commander[/\\]lib[/\\]command\.js$/ }, async ({ path }) => {
      const eager = "const childProcess = require('node:child_process');";
      const source = await readFile(path, 'utf8');
      if (!source.includes(eager)) throw new Error(`${path}: no \`${eager}\` to make lazy (another commander?)`);
      const lazy = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: source.replace(eager, lazy), loader: 'js' };
    });
  },
};

await build({
  ...common,
  stdin: { contents: "export * from 'execa';", resolveDir: root },
  outfile: `${dist}execa.js`,
  banner: { js: requireBanner },
});
// The three commands, each its own bundle beside the others in dist/ and its bin a launcher where tsc put it.
// minictr, which starts with every container, is a CommonJS script its launcher compiles with V8's code cache
// (cachedLauncher below); the other two are ES modules (minictr-oci imports execa statically, and keeps top-level await).
const CACHE_KINDS = ['run', 'other'];
const commands = [
  { entry: 'cli', bundle: 'minictr', cached: true },
  { entry: 'oci/cli', bundle: 'minictr-oci', cached: false },
  { entry: 'cni/main', bundle: 'minictr-cni', cached: false },
];
for (const { entry, bundle, cached } of commands) {
  const file = cached ? `${bundle}.cjs` : `${bundle}.js`;
  await build({
    ...common,
    entryPoints: [`${src}${entry}.ts`],
    outfile: `${dist}${file}`,
    plugins: [distModuleUrl({ scriptPaths: cached }), execaApart, commanderWithoutChildProcess],
    ...(cached ? scriptOptions : { banner: { js: requireBanner } }),
  });
  const path = relative(dirname(`${dist}${entry}.js`), `${dist}${file}`).replace(/^(?!\.)/, './');
  if (cached) {
    if (path !== `./${file}`) throw new Error(`${file}: not beside its launcher, whose require() it is given (step 4)`);
    await asciiOnly(`${dist}${file}`);
    await writeFile(`${dist}${entry}.cjs`, [...cachedLauncher(bundle, path), ''].join('\n'));
    await writeFile(`${dist}${entry}.js`, [...shellLauncher(bundle, `${dist}${entry}`), ''].join('\n'));
  } else {
    // The launcher keeps the source's first line, `#!/usr/bin/env -S node --` (see the comment in src/cli.ts).
    const shebang = (await readFile(`${src}${entry}.ts`, 'utf8')).split('\n', 1)[0];
    await writeFile(`${dist}${entry}.js`, [shebang, ...moduleLauncher(bundle, path), ''].join('\n'));
  }
  await chmod(`${dist}${entry}.js`, 0o755); // tsc made the file: writeFile's mode applies only to a new one
  // Made for the previous bundle: V8 would reject them anyway.
  for (const kind of CACHE_KINDS) await rm(`${dist}${file}.${kind}.cache`, { force: true });
}

/** An ES module bundle's launcher: Node's compile cache where it has one (22+), then the bundle. */
function moduleLauncher(bundle, path) {
  return [
    `// ${bundle}: Node's compile cache where it has one (22+), then the bundle (scripts/bundle.mjs).`,
    "import module from 'node:module';",
    'module.enableCompileCache?.();',
    `await import(${JSON.stringify(path)});`,
  ];
}

/**
 * The bin of a CommonJS bundle, both a shell script and an ES module. Run as a program (`npm link`'s `minictr`), it
 * is a script of /bin/sh whose second line, `":" //; …`, execs Node on the CommonJS launcher beside it (`--`: see
 * the comment in src/cli.ts): Node then loads no ES module at all, 3-5 ms of its loader (`/usr/bin/env`, the
 * previous first line, was a process too). The launcher's absolute path is written at build time, as npm's bin is
 * a symlink elsewhere; it is used only when the script run is this very file (`-ef`), otherwise (a moved or copied
 * tree) Node runs the script itself, resolving the symlink. Node is the one that built it, by its absolute path
 * (the addon is built for its ABI), while it exists: a search along PATH is a failed execve() per earlier directory
 * (0.3 ms on a PATH of ten); PATH's node otherwise. `n` is a function, not a variable, so that no environment
 * variable of the caller's changes. Run by Node (`node dist/cli.js`), the second line is a string and a comment,
 * and the module requires the same launcher.
 */
function shellLauncher(bundle, base) {
  // Its first command: Node 20 parses NODE_EXTRA_CA_CERTS's file at start-up, 30 ms for a system bundle; minictr
  // reads it when it makes its first TLS connection instead (src/extra-ca-certs.ts, which also gives the variable
  // back to the processes minictr starts).
  const deferExtraCaCerts =
    'if [ "${NODE_EXTRA_CA_CERTS+set}" ]; then MINICTR_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export MINICTR_NODE_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; fi;';
  const quote = (text) => `'${text.replaceAll("'", "'\\''")}'`;
  const node = quote(process.execPath);
  return [
    '#!/bin/sh',
    `":" //; ${deferExtraCaCerts} n() { [ -x ${node} ] && exec ${node} -- "$@"; exec node -- "$@"; }; [ "$0" -ef ${quote(`${base}.js`)} ] && n ${quote(`${base}.cjs`)} "$@"; n "$0" "$@"`,
    `// ${bundle}: the line above for a shell; for Node, the launcher beside this file (scripts/bundle.mjs).`,
    "import { createRequire } from 'node:module';",
    `createRequire(import.meta.url)(${JSON.stringify(`./${basename(base)}.cjs`)});`,
  ];
}

/**
 * A CommonJS bundle's launcher, on every Node from 20: the bundle is one function expression, which V8 compiles
 * with the code cache in BUNDLE.KIND.cache when there is one. V8 checks that the cache belongs to this source, V8
 * version and flags, and compiles from the source when it does not; the launcher then writes a new cache as the
 * process exits (process.exit() runs 'exit' listeners), holding every function this first run compiled. `run`, the
 * path of every container, has a cache of its own: one written by `--help` or `ps` lacks most of its functions
 * (`run --network none /bin/true` took 89 ms with such a cache, 83 ms with its own). A cache that cannot be written
 * (read-only dist/) only costs the compilation, as before. The launcher is CommonJS, so that Node loads no ES module
 * when the bin runs it (shellLauncher), and gives the bundle, in the same directory, its own require() (step 4).
 */
function cachedLauncher(bundle, path) {
  return [
    `// ${bundle}: the bundle, compiled with V8's code cache (scripts/bundle.mjs).`,
    "'use strict';",
    "const { readFileSync, renameSync, writeFileSync } = require('node:fs');",
    "const { join } = require('node:path');",
    "const { Script } = require('node:vm');",
    `const filename = join(__dirname, ${JSON.stringify(path)});`,
    `const cache = \`\${filename}.\${process.argv.includes('run') ? ${JSON.stringify(CACHE_KINDS[0])} : ${JSON.stringify(CACHE_KINDS[1])}}.cache\`;`,
    'let cachedData;',
    'try { cachedData = readFileSync(cache); } catch {}',
    'const script = new Script(readFileSync(filename, \'latin1\'), { filename, cachedData });',
    'if (script.cachedDataRejected !== false) {',
    '  process.once(\'exit\', () => {',
    '    try {',
    '      writeFileSync(`${cache}.${process.pid}`, script.createCachedData());',
    '      renameSync(`${cache}.${process.pid}`, cache);',
    '    } catch {}',
    '  });',
    '}',
    'script.runInThisContext()(filename, require);',
  ];
}
