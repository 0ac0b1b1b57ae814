import { readFile } from 'node:fs/promises';
import { withSql } from './databases.js';

const schemaFile = new URL('./feature-rich.sql', import.meta.url);

/** Loads the feature-rich fixture (see feature-rich.sql) into an empty database. */
export async function loadFeatureRichSchema(url: string): Promise<void> {
  const text = await readFile(schemaFile, 'utf8');
  // No parameters: postgres.js uses the simple protocol, which runs many statements at once.
  await withSql(url, (sql) => sql.unsafe(text));
}

// Touches data, schema, sequences, large objects and the extension, so only a restore that
// really replaces everything brings the fingerprint back to the original.
const mutations = `
UPDATE app.customers SET name = name || ' (edited)' WHERE id % 50 = 0;
DELETE FROM app.orders WHERE id % 97 = 0;
INSERT INTO app.orders (id, ordered_at, customer_id, product_id, quantity)
  VALUES (100001, '2024-06-01', 1, 1, 3), (100002, '2031-01-01', 2, 2, 1);
UPDATE "MixedCase"."Weird Table" SET "Column With Space" = 'Zoë (renamed)' WHERE "Column With Space" = 'Zoë';
SELECT nextval('app.invoice_number_seq');
DROP TABLE public.app_settings;
CREATE SCHEMA added_after_backup;
CREATE TABLE added_after_backup.extra (id integer PRIMARY KEY);
CREATE TABLE public.also_added (note text);
SELECT lo_from_bytea(0, convert_to('created after the backup', 'UTF8'));
SELECT lo_put(424202, 0, '\\x0102');
-- Cascades to the domain app.email, the column using it and the view selecting that column.
DROP EXTENSION citext CASCADE;
REFRESH MATERIALIZED VIEW app.monthly_revenue;
`;

/** Changes a copy of the fixture in ways a full restore must undo. */
export async function mutateFeatureRichDatabase(url: string): Promise<void> {
  await withSql(url, (sql) => sql.unsafe(mutations));
}
