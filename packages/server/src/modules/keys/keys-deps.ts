import type { Clock } from '@pgbs/engine';
import type { AuditLog } from '../../audit/audit-log.js';
import type { KeyRing } from '../targets/credential-box.js';
import type { Actor } from '../targets/target-deps.js';
import type { TargetRepository } from '../targets/target-repository.js';
import type { KeysRepository } from './keys-repository.js';

export type { Actor };

/** What the key operations share; app.ts picks the real ones. */
export interface KeysDeps {
  repo: KeysRepository;
  targets: TargetRepository;
  /** The master key ring: seals kept identities and signing keys. */
  masterKeys: KeyRing;
  clock: Clock;
  audit: AuditLog;
}
