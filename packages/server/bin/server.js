#!/usr/bin/env node
// `pnpm start`: the service from the bundle in dist/, rebuilt first when a source file changed.
import { ensureBuilt } from '../scripts/build.js';

process.setSourceMapsEnabled(true);
await ensureBuilt();
await import('../dist/server.js');
