#!/usr/bin/env node
// `pgbs`, the CLI: the bundle in dist/, rebuilt first when a source file changed (scripts/build.js).
import { ensureBuilt } from '../scripts/build.js';

process.setSourceMapsEnabled(true);
await ensureBuilt();
await import('../dist/cli.js');
