import { ServiceError } from '../../errors/service-error.js';

/** Whether the catalog names the new objects, learnt before anything is removed. */
export type SwitchOutcome = 'switched' | 'refused';

/**
 * A re-encryption's catalog switch, whose outcome is known even when its reply was lost (the
 * metadata database's connection dropped at the COMMIT): the catalog is read again, once no
 * switch can be in flight, and names the new objects (switched), the old ones (the error is
 * thrown: the new objects may go), or cannot be read: `backup/switch-unconfirmed`, on which the
 * caller removes nothing, old or new, since either may be the one the catalog names.
 */
export async function switchCatalog(steps: {
  /** true: switched (or found switched); false: refused, the catalog unchanged. */
  switch: () => Promise<boolean>;
  /** The file name the catalog names now, read under the row lock (a switch still committing is waited for); null: no row. */
  named: () => Promise<string | null>;
  backupId: string;
  from: string;
  to: string;
}): Promise<SwitchOutcome> {
  let failure: unknown;
  try {
    return (await steps.switch()) ? 'switched' : 'refused';
  } catch (error) {
    failure = error;
  }
  const named = await steps.named().catch(() => undefined);
  if (named === steps.to) return 'switched';
  if (named === steps.from) throw failure;
  throw new ServiceError(
    'backup/switch-unconfirmed',
    `Whether backup ${steps.backupId} now names its re-encrypted objects (${steps.to}) or its old ones (${steps.from}) could not be confirmed (${failure instanceof Error ? failure.message : String(failure)}): both were kept on every destination. Remove the ones the catalog does not name (backup show ${steps.backupId}) once the metadata database answers.`,
  );
}
