import type { RecipientRow } from '../../db/schema.js';
import { type AddRecipientInput, addRecipient } from './add-recipient.js';
import { type EncryptionPlan, encryptionFor, keptIdentities } from './encryption-plan.js';
import { type GenerateKeyInput, generateKey } from './generate-key.js';
import type { Actor, KeysDeps } from './keys-deps.js';
import type { DependentBackup } from './keys-repository.js';
import { type ManifestSignature, ManifestSigner, type SignatureCheck } from './manifest-signer.js';
import { type RecipientView, recipientView } from './recipient-view.js';
import { recoveryKit } from './recovery-kit.js';
import { resealKeySecrets } from './reseal-secrets.js';
import type { RotationResult } from '../targets/rotate-credentials.js';
import { type RetireInput, retireRecipient } from './retire-recipient.js';
import { resolveRecipients, setTargetRecipients } from './target-recipients.js';

/** The keys domain as the transports (GraphQL, CLI) and the backup pipeline use it. */
export interface KeysModule {
  list(): Promise<RecipientView[]>;
  get(ref: string): Promise<RecipientView>;
  /** The identity is in this answer only: nothing returns it again. */
  generate(input: GenerateKeyInput, actor: Actor): Promise<{ recipient: RecipientView; identity: string }>;
  addRecipient(input: AddRecipientInput, actor: Actor): Promise<RecipientView>;
  retire(ref: string, input: RetireInput, actor: Actor): Promise<RecipientView>;
  /** refs: names, fingerprints or age1… of registered recipients; ["none"] or []: encryption off. */
  setTargetRecipients(target: string, refs: readonly string[], actor: Actor): Promise<RecipientView[]>;
  targetRecipients(targetId: string): Promise<RecipientView[]>;
  recoveryKit(ref: string): Promise<string>;
  /** Re-seals kept identities and signing keys with the current master key (key rotate). */
  rotate(): Promise<RotationResult>;
  /** The backups only this recipient (among the unretired) opens: what retiring it must name. */
  dependentBackups(ref: string): Promise<DependentBackup[]>;

  // The backup pipeline's seams.
  /** What a new backup of this target is encrypted to; null: stored in clear. */
  encryptionFor(targetId: string): Promise<EncryptionPlan | null>;
  /** Identities kept on the server (opt-in) for these fingerprints: automatic test-restores. */
  keptIdentities(fingerprints: readonly string[]): Promise<string[]>;
  signManifest<T extends Record<string, unknown>>(manifest: T): Promise<T & { signature?: ManifestSignature }>;
  verifyManifestSignature(manifest: Record<string, unknown>): Promise<SignatureCheck>;
  /** Whether manifests are signed (a master key is configured): only then does a missing signature mean foreign. */
  signsManifests(): boolean;
}

export function createKeysModule(deps: KeysDeps, encryptTo: readonly string[] | undefined): KeysModule {
  const defaultRecipients = (): Promise<RecipientRow[]> =>
    encryptTo === undefined ? Promise.resolve([]) : resolveRecipients(deps, encryptTo);
  const signer = new ManifestSigner(deps);
  const withCounts = async (rows: RecipientRow[]) => {
    const counts = await deps.repo.backupCounts();
    return rows.map((row) => recipientView(row, counts.get(row.fingerprint) ?? 0));
  };
  const view = async (row: RecipientRow) => (await withCounts([row]))[0]!;
  return {
    list: async () => withCounts(await deps.repo.list()),
    get: async (ref) => view(await deps.repo.find(ref)),
    async generate(input, actor) {
      const { recipient, identity } = await generateKey(deps, input, actor);
      return { recipient: await view(recipient), identity };
    },
    addRecipient: async (input, actor) => view(await addRecipient(deps, input, actor)),
    retire: async (ref, input, actor) => view(await retireRecipient({ ...deps, defaultRecipients }, ref, input, actor)),
    setTargetRecipients: async (target, refs, actor) =>
      withCounts(await setTargetRecipients(deps, target, refs, actor)),
    targetRecipients: async (targetId) => withCounts(await deps.repo.ofTarget(targetId)),
    recoveryKit: async (ref) => recoveryKit(await deps.repo.find(ref)),
    rotate: () => resealKeySecrets(deps),
    dependentBackups: async (ref) => deps.repo.dependentBackups((await deps.repo.find(ref)).fingerprint),
    encryptionFor: (targetId) => encryptionFor({ ...deps, defaultRecipients }, targetId),
    keptIdentities: (fingerprints) => keptIdentities(deps, fingerprints),
    signManifest: (manifest) => signer.sign(manifest),
    verifyManifestSignature: (manifest) => signer.verify(manifest),
    signsManifests: () => signer.canSign,
  };
}
