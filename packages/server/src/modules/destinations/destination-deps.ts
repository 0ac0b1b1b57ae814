import type { Clock } from '@pgbs/engine';
import type { AuditActor } from '../../audit/audited.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { S3Credentials, S3Settings } from '../../storage/s3-storage.js';
import type { KeyRing } from '../targets/credential-box.js';
import type { DestinationRepository } from './destination-repository.js';

/** How a destination's storage is built: app.ts picks the real ones (tests may count or fail them). */
export interface StorageFactories {
  local(directory: string): ObjectStorage;
  /** Refuses a directory that is not fit to become a new local destination (before anything is stored). */
  checkLocal(directory: string): Promise<void>;
  s3(settings: S3Settings, credentials: S3Credentials | null): ObjectStorage;
}

/** What the destination operations share; app.ts picks the real ones. */
export interface DestinationDeps {
  repo: DestinationRepository;
  keys: KeyRing;
  clock: Clock;
  audit: AuditLog;
  storage: StorageFactories;
  /** S3_ENV_CREDENTIALS_ENDPOINTS: the endpoint origins the service's own credentials may go to (absent: AWS only). */
  environmentEndpoints?: readonly string[];
  /** A live target's id and name, for `target set --destinations`. */
  findTarget(idOrName: string): Promise<{ id: string; name: string }>;
}

export type Actor = AuditActor;
