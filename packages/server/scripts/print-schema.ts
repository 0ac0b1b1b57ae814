import { writeFile } from 'node:fs/promises';
import { printedSchema } from '../src/graphql/schema.js';

// The committed schema.graphql is what the panel's types are generated from; a test fails when it
// is stale. --stdout prints instead of writing (the test compares).
if (process.argv.includes('--stdout')) process.stdout.write(printedSchema());
else await writeFile(new URL('../schema.graphql', import.meta.url), printedSchema());
