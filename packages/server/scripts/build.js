// Bundles the service and the CLI (with @pgbs/engine, whose package exports TypeScript) into dist/,
// so that `pnpm start`, `pnpm cli` and `pgbs` start without compiling TypeScript. Plain JavaScript:
// the launchers in bin/ import ensureBuilt() before anything else, and `node scripts/build.js` builds.
import { cpSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_DIR = fileURLToPath(new URL('../', import.meta.url));
// Every output file sits directly in dist/, at the depth of src/: the source's paths relative to
// import.meta.url (config.ts's repository root, db/client.ts's ./migrations, the demo SQL) hold in
// both, once the assets are copied beside the bundle.
const DIST = path.join(SERVER_DIR, 'dist');
const INFO = path.join(DIST, 'build-info.json');
const ASSETS = [
  ['src/db/migrations', 'migrations'],
  ['src/embedded/demo-database.sql', 'demo-database.sql'],
];

/** Builds unless dist/ is newer than every file it was built from (a few stat calls: fast). */
export async function ensureBuilt() {
  if (!isFresh()) await build();
}

function isFresh() {
  let info;
  try {
    info = JSON.parse(readFileSync(INFO, 'utf8'));
  } catch {
    return false;
  }
  try {
    return info.inputs.every((file) => statSync(path.join(SERVER_DIR, file)).mtimeMs <= info.builtAt);
  } catch {
    return false; // an input was removed
  }
}

export async function build() {
  const { build: esbuild } = await import('esbuild');
  const builtAt = Date.now();
  const result = await esbuild({
    absWorkingDir: SERVER_DIR,
    entryPoints: { server: 'src/main.ts', cli: 'src/cli/main.ts' },
    outdir: DIST,
    bundle: true,
    // Shared code and what the CLI imports lazily go to chunks, so `--help` loads only its entry.
    splitting: true,
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node24',
    sourcemap: true,
    metafile: true,
    // Written below, each file by a rename: a process starting meanwhile reads whole files.
    write: false,
    logLevel: 'warning',
    plugins: [externalPackagesButTheWorkspace],
  });
  mkdirSync(DIST, { recursive: true });
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
  const inputs = [...Object.keys(result.metafile.inputs), 'package.json', 'scripts/build.js'];
  for (const [from, to] of ASSETS) {
    cpSync(path.join(SERVER_DIR, from), path.join(DIST, to), { recursive: true });
    inputs.push(...listFiles(from));
  }
  const temporary = `${INFO}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ builtAt, inputs }, null, 1) + '\n');
  renameSync(temporary, INFO);
}

/**
 * The server's own dependencies stay imports (Node loads them as installed, native parts and all).
 * Everything else is bundled: the workspace's packages export TypeScript, and their dependencies
 * (the engine's age-encryption) cannot be resolved from dist/, which only sees the server's.
 */
const SERVER_DEPENDENCIES = new Set(
  Object.keys(JSON.parse(readFileSync(path.join(SERVER_DIR, 'package.json'), 'utf8')).dependencies),
);
const packageName = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
const externalPackagesButTheWorkspace = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = packageName(args.path);
      if (name.startsWith('@pgbs/')) return undefined;
      if (args.path.startsWith('node:') || builtinModules.includes(name) || SERVER_DEPENDENCIES.has(name)) {
        return { external: true };
      }
      return undefined;
    });
  },
};

function listFiles(relative) {
  const absolute = path.join(SERVER_DIR, relative);
  if (!statSync(absolute).isDirectory()) return [relative];
  return readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(SERVER_DIR, path.join(entry.parentPath, entry.name)));
}

if (import.meta.main) await build();
