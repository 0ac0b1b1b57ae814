import { CodedError, type TargetRole } from '@pgbs/engine';
import type { ErrorCode } from '../../errors/error-codes.js';
import { isCodedError } from '../../errors/service-error.js';
import { builder } from '../builder.js';
import { requireAdmin } from '../context.js';
import { TargetRoleRef } from './restore-check.js';

interface ServerInfo {
  targetDatabase: string;
  target: string;
  serverVersion: string | null;
  clientVersion: string | null;
  clientDirectory: string | null;
  versionProblem: CodedError<ErrorCode> | null;
  connectionRole: TargetRole | null;
  storageLocation: string;
  /** null: object storage, which has no free-space call. */
  storageFreeBytes: number | null;
  maxUploadBytes: number;
  jobTimeoutSeconds: number;
}

const ServerInfoRef = builder.objectRef<ServerInfo>('ServerInfo').implement({
  fields: (t) => ({
    targetDatabase: t.exposeString('targetDatabase', { description: 'The name to type to confirm a restore.' }),
    target: t.exposeString('target', { description: 'host:port/database (no credentials).' }),
    serverVersion: t.exposeString('serverVersion', { nullable: true }),
    clientVersion: t.exposeString('clientVersion', { nullable: true }),
    clientDirectory: t.exposeString('clientDirectory', { nullable: true }),
    versionProblem: t.field({
      type: CodedError,
      nullable: true,
      description: 'Why backups cannot run now (unreachable server, client tools too old), if they cannot.',
      resolve: (info) => info.versionProblem,
    }),
    connectionRole: t.field({
      type: TargetRoleRef,
      nullable: true,
      description: 'Who the service connects as (null when the target is unreachable).',
      resolve: (info) => info.connectionRole,
    }),
    storageLocation: t.exposeString('storageLocation'),
    storageFreeBytes: t.expose('storageFreeBytes', {
      type: 'Bytes',
      nullable: true,
      description: 'Free bytes where backups are stored; null for object storage, which has no free-space call.',
    }),
    maxUploadBytes: t.expose('maxUploadBytes', { type: 'Bytes' }),
    jobTimeoutSeconds: t.exposeInt('jobTimeoutSeconds'),
  }),
});

builder.queryFields((t) => ({
  serverInfo: t.field({
    type: ServerInfoRef,
    resolve: async (_root, _args, context) => {
      requireAdmin(context);
      const { app } = context;
      const target = (await app.targets.connections.defaultTarget()).connection;
      const versions = await app.backups.versions().then(
        (prepared) => ({ prepared, problem: null }),
        (error: unknown) => {
          if (isCodedError(error)) return { prepared: null, problem: error };
          throw error;
        },
      );
      const storage = await app.placement.storage(app.placement.localId);
      return {
        targetDatabase: target.database,
        target: target.display,
        serverVersion: versions.prepared?.serverVersion.text ?? null,
        clientVersion: versions.prepared?.tools.version.text ?? null,
        clientDirectory: versions.prepared?.tools.dir ?? null,
        versionProblem: versions.problem,
        connectionRole: versions.prepared ? await app.backups.connectionRole(versions.prepared) : null,
        storageLocation: storage.location,
        storageFreeBytes: await storage.freeBytes(),
        maxUploadBytes: app.config.maxUploadBytes,
        jobTimeoutSeconds: app.config.jobTimeoutSeconds,
      };
    },
  }),
}));
