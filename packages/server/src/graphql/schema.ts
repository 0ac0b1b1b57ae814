import { printSchema } from 'graphql';
import { builder } from './builder.js';
import './types/jobs.js';
import './types/backups.js';
import './types/downloads.js';
import './types/auth.js';
import './types/audit.js';
import './types/restore-check.js';
import './types/server-info.js';
import './types/uploads.js';
import './types/schedules.js';
import './types/retention.js';
import './types/targets.js';
import './types/keys.js';
import './types/destinations.js';
import './types/config-transfer.js';
import './types/dashboard.js';

export const schema = builder.toSchema({ sortSchema: true });

export function printedSchema(): string {
  return `${printSchema(schema)}\n`;
}
