// Validates the repository's docker-compose.yml against the Compose Specification JSON schema.
// The schema is the one dclint ships (schemas/compose.schema.json, from the compose-spec project).
// Usage: pnpm --filter @pgbs/server compose:check [path/to/docker-compose.yml]
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const file = path.resolve(repoRoot, process.argv[2] ?? 'docker-compose.yml');
const schemaPath = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json');

const schema = JSON.parse(await readFile(schemaPath, 'utf8')) as Record<string, unknown>;
const document: unknown = parse(await readFile(file, 'utf8'));
// The schema is draft-07 with "$schema" pointing at the https URL Ajv does not register.
delete schema['$schema'];
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);
if (!validate(document)) {
  for (const error of validate.errors ?? []) {
    console.error(`${path.relative(repoRoot, file)}: ${error.instancePath || '/'} ${error.message ?? ''}`);
  }
  process.exit(1);
}
console.log(`${path.relative(repoRoot, file)} is valid against the Compose Specification schema.`);
