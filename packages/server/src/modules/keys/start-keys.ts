import { parseRecipient, recipientFingerprint } from '@pgbs/engine';
import { isCodedError, ServiceError } from '../../errors/service-error.js';
import type { Logger } from '../../logger.js';
import { defaultKeyName } from './key-name.js';
import { resealKeySecrets } from './reseal-secrets.js';
import type { KeysDeps } from './keys-deps.js';
import { resolveRecipients } from './target-recipients.js';

/**
 * What each start checks before any backup runs. The service refuses to start only when
 * encryption is on and nothing can be encrypted to:
 *  - ENCRYPT_TO is set, but one of its entries is no valid, unretired recipient (or it holds none);
 *  - a target has recipients, all of them retired.
 * strict false (the CLI) only warns: the CLI is how an administrator fixes either (key generate,
 * target set), so it must start. An age1… in ENCRYPT_TO that is not registered yet is registered
 * (named env-<fingerprint>), so that `key list` and retirement know it.
 */
export async function startKeys(
  deps: KeysDeps,
  encryptTo: readonly string[] | undefined,
  logger: Logger,
  { strict }: { strict: boolean },
): Promise<void> {
  const rotation = await resealKeySecrets(deps);
  if (rotation.resealed > 0)
    logger.info('re-sealed kept identities and signing keys with the current key', { count: rotation.resealed });
  for (const failed of rotation.failed)
    logger.warn('a kept identity or signing key cannot be opened with the configured keys', failed);
  const problems: ServiceError[] = [];
  try {
    if (encryptTo !== undefined) await checkEncryptTo(deps, encryptTo, logger);
  } catch (error) {
    if (!isCodedError(error)) throw error;
    problems.push(new ServiceError(error.code, `ENCRYPT_TO: ${error.message}`));
  }
  const stranded = (await deps.repo.targetsWithRecipients()).filter((target) => target.unretired === 0);
  if (stranded.length > 0) {
    problems.push(
      new ServiceError(
        'key/no-recipient',
        `Encryption is on for ${stranded.map((target) => target.name).join(', ')}, but every recipient they encrypt to is retired: set new ones (pnpm cli target set <target> --encrypt-to <key>).`,
        { targets: stranded.map((target) => target.name) },
      ),
    );
  }
  if (problems.length === 0) return;
  if (strict) throw problems[0]!;
  for (const problem of problems) logger.warn(problem.message, { code: problem.code });
}

async function checkEncryptTo(deps: KeysDeps, encryptTo: readonly string[], logger: Logger): Promise<void> {
  if (encryptTo.length === 0) {
    throw new ServiceError(
      'key/no-recipient',
      'it is set but names no recipient: give age1… recipients or key names, or unset it.',
    );
  }
  for (const entry of encryptTo) {
    if (!entry.startsWith('age1')) continue;
    const recipient = parseRecipient(entry, 'An entry');
    const fingerprint = recipientFingerprint(recipient);
    if (await deps.repo.byFingerprint(fingerprint)) continue;
    const name = defaultKeyName('env', fingerprint);
    const row = await deps.repo
      .insert({ name, recipient, fingerprint, identitySealed: null })
      .catch((error: unknown) => {
        // Another instance starting at the same time registered it first.
        if (isCodedError(error, 'key/recipient-exists')) return null;
        throw error;
      });
    if (!row) continue;
    await deps.audit.record({
      actor: 'ENCRYPT_TO',
      action: 'key.add-recipient',
      outcome: 'succeeded',
      subjectId: row.id,
      details: { name, fingerprint },
    });
    logger.info('registered a recipient from ENCRYPT_TO', { name, fingerprint });
  }
  await resolveRecipients(deps, encryptTo);
}
