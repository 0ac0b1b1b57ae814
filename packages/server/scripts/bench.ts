// `pnpm bench <name> [options]`: benchmarks that run the real service (not tests: they print figures).
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  upload: () => import('./bench-upload.js'),
  'backup-restore': () => import('./bench-backup-restore.js'),
};

const [name = '', ...args] = process.argv.slice(2);
const load = benches[name];
if (!load) {
  process.stderr.write(`usage: pnpm bench <${Object.keys(benches).join('|')}> [options]\n`);
  process.exit(2);
}
await (await load()).run(args);
