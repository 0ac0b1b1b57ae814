import { randomBytes } from 'node:crypto';
import { isCodedError } from '../errors/service-error.js';
import type { App } from '../app.js';

/**
 * The first admin: from ADMIN_EMAIL / ADMIN_PASSWORD, or in embedded mode a generated
 * password that is returned once for printing. Nothing happens once an admin exists.
 */
export async function bootstrapAdmin(app: App): Promise<{ email: string; generatedPassword: string | null } | null> {
  if (await app.auth.hasAdmin()) return null;
  const { adminEmail, adminPassword } = app.config;
  if (adminEmail && adminPassword) {
    try {
      await app.auth.createUser(adminEmail, adminPassword, 'admin');
    } catch (error) {
      // Instances started together on a new metadata database: another one created it just now.
      if (isCodedError(error, 'auth/user-exists') && (await app.auth.hasAdmin())) return null;
      throw error;
    }
    return { email: adminEmail, generatedPassword: null };
  }
  if (app.config.databases.mode !== 'embedded') return null;
  const email = adminEmail ?? 'admin@localhost';
  const password = randomBytes(12).toString('base64url');
  await app.auth.createUser(email, password, 'admin');
  return { email, generatedPassword: password };
}
