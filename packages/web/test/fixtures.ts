import type { BackupRow } from '@/features/backups/backup-actions';
import type { Job } from '@/features/backups/useJobList';
import type { ResultOf } from '@/graphql/graphql';
import type { ServerInfoQuery } from '@/graphql/server-info';

export function backupRow(overrides: Partial<BackupRow> = {}): BackupRow {
  return {
    id: 'b1',
    createdAt: '2025-11-20T10:00:00.000Z',
    fileName: 'workload_tracker-20251120-100000.dump',
    description: 'before release',
    sizeBytes: 157_286_400,
    format: 'custom',
    sha256: 'a3f1c2d4e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef',
    verifyStatus: null,
    verifiedAt: null,
    origin: 'manual',
    createdBy: 'admin@localhost',
    pinned: false,
    copiesComplete: 1,
    copiesTotal: 1,
    recipientFingerprints: [],
    recipients: [],
    target: { id: 't1', name: 'workload', database: 'workload_tracker', removed: false },
    ...overrides,
  };
}

export function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 'j1',
    kind: 'backup',
    state: 'running',
    backupId: null,
    attempts: null,
    target: { id: 't1', name: 'workload' },
    warnings: [],
    errorCode: null,
    errorMessage: null,
    errorEntry: null,
    requestedBy: 'admin@localhost',
    createdAt: '2025-11-20T10:00:00.000Z',
    startedAt: '2025-11-20T10:00:01.000Z',
    finishedAt: null,
    progress: {
      percent: 42.7,
      phase: 'data',
      currentTable: 'public.time_entries',
      tablesDone: 3,
      tablesTotal: 7,
      bytes: 52_428_800,
      etaSeconds: 185,
    },
    ...overrides,
  };
}

export type ConnectionRole = NonNullable<ResultOf<typeof ServerInfoQuery>['serverInfo']['connectionRole']>;

/** The recommended setup: the service connects as the database's owner. */
export const ownerConnection: ConnectionRole = {
  role: 'workload_tracker_owner',
  superuser: false,
  owner: 'workload_tracker_owner',
  ownerRisks: [],
};

export const serverInfo = {
  target: 'localhost:54329/workload_tracker',
  targetDatabase: 'workload_tracker',
  serverVersion: '15.18',
  clientVersion: '15.14',
  clientDirectory: '/usr/lib/postgresql/15/bin',
  storageLocation: '/srv/backups',
  storageFreeBytes: 50 * 1024 ** 3,
  maxUploadBytes: 1000,
  jobTimeoutSeconds: 21_600,
  versionProblem: null,
  connectionRole: ownerConnection as ConnectionRole | null,
};

/** Two live targets, as the Targets query lists them (the fields the panel asks for). */
export const TARGETS = [
  { id: 't1', name: 'workload' },
  { id: 't2', name: 'shop' },
];
