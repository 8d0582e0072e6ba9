// Bundles the command line into one file, dist/minictr.js, with esbuild, after `tsc` has type-checked and compiled
// src/ into dist/ (the tests import some of those files directly); minictr-oci and minictr-cni are bundled the same way. Start-up is most of a short container's cost, and
// Node 20 loads ES modules one promise chain per file: one file holding commander and every module `run` needs loads
// in a fraction of the time of the 40 files it replaces. dist/cli.js, the bin, becomes a launcher of three lines
// that turns on Node's compile cache first (Node 22 and later: the bundle is then compiled once, not at every start),
// replacing tsc's compiled src/cli.ts.
//
// 1. What `run` does not need is still not run: a verb's module, the image registry client, --dry-run's script
//    writer are dynamic import()s in the source, which esbuild turns into functions that evaluate the module on first
//    use. V8 only pre-parses their code.
// 2. execa (doctor, gc's repairs, `net --format svg`; 250 KB, no code shared with minictr's) goes into its own file,
//    dist/execa.js, imported on first use: `run` does not even read it.
// 3. The native addon stays where node-gyp builds it (native/build), loaded at run time by src/native/index.ts.
// 4. Every module keeps the import.meta.url its tsc-compiled file has (dist/<path>.js): paths relative to it (the
//    addon and helpers in native/build, the rootfs, dist/cli.js for minictr-monitor's cleanup) resolve as before.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}src/`;
const dist = `${root}dist/`;

const common = { bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning', legalComments: 'none' };
// CommonJS dependencies (commander, execa's) require() Node's built-in modules: give the ES module a require().
const requireBanner = "import { createRequire as __minictrRequire } from 'node:module'; const require = __minictrRequire(import.meta.url);";

/** Step 4: import.meta.url in src/X.ts becomes the URL of dist/X.js, relative to the bundle's own URL. */
const distModuleUrl = {
  name: 'dist-module-url',
  setup(build) {
    build.onLoad({ filter: /\/src\/.*\.ts$/ }, async ({ path }) => {
      const compiled = `./${relative(src, path).replace(/\.ts$/, '.js')}`;
      const source = await readFile(path, 'utf8');
      const contents = source.replaceAll('import.meta.url', `new URL(${JSON.stringify(compiled)}, import.meta.url).href`);
      return { contents, loader: 'ts' };
    });
  },
};

/** Step 2: `import('execa')` becomes `import('./execa.js')`, the file built below. */
const execaApart = {
  name: 'execa-apart',
  setup(build) {
    build.onResolve({ filter: /^execa$/ }, () => ({ path: './execa.js', external: true }));
  },
};

await build({
  ...common,
  stdin: { contents: "export * from 'execa';", resolveDir: root },
  outfile: `${dist}execa.js`,
  banner: { js: requireBanner },
});
// The three commands, each its own bundle beside the others in dist/ and its bin a launcher where tsc put it.
const commands = [
  { entry: 'cli', bundle: 'minictr' },
  { entry: 'oci/cli', bundle: 'minictr-oci' },
  { entry: 'cni/main', bundle: 'minictr-cni' },
];
for (const { entry, bundle } of commands) {
  await build({
    ...common,
    entryPoints: [`${src}${entry}.ts`],
    outfile: `${dist}${bundle}.js`,
    banner: { js: requireBanner },
    plugins: [distModuleUrl, execaApart],
  });
  // The launcher keeps the source's first line, `#!/usr/bin/env -S node --` (see the comment in src/cli.ts).
  const shebang = (await readFile(`${src}${entry}.ts`, 'utf8')).split('\n', 1)[0];
  const launcher = [
    shebang,
    `// ${bundle}: Node's compile cache where it has one (22+), then the bundle (scripts/bundle.mjs).`,
    "import module from 'node:module';",
    'module.enableCompileCache?.();',
    `await import(${JSON.stringify(relative(dirname(`${dist}${entry}.js`), `${dist}${bundle}.js`).replace(/^(?!\.)/, './'))});`,
    '',
  ];
  // tsc has written the file already (0644), and writeFile's mode applies only to a file it creates: a CNI runtime
  // executes dist/cni/main.js itself, so the mode is set whatever was there.
  await writeFile(`${dist}${entry}.js`, launcher.join('\n'));
  await chmod(`${dist}${entry}.js`, 0o755);
}
