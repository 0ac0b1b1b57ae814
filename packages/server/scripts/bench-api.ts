// The service's GraphQL API as the benchmarks use it: an API token, graphql-ws connections, and
// jobs started by a mutation and followed through jobProgress until they end.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { graphql, login } from './service-process.js';

export interface Api {
  url: string;
  token: string;
  ws: Client;
}

/** Logs in once for an admin API token (what an integration uses), and opens one graphql-ws connection. */
export async function connectApi(url: string): Promise<Api> {
  const cookie = await login(url);
  const created = await graphql<{ createApiToken: { data?: { token: string } } }>(
    url,
    { cookie },
    'mutation { createApiToken(name: "bench") { ... on MutationCreateApiTokenSuccess { data { token } } ... on CodedError { code message } } }',
  );
  const token = created.createApiToken.data?.token;
  if (!token) throw new Error(`createApiToken failed: ${JSON.stringify(created)}`);
  return { url, token, ws: await openWs(url, token) };
}

/** A graphql-ws connection, resolved once acknowledged: the handshake is never part of a timing. */
export async function openWs(url: string, token: string): Promise<Client> {
  const ws = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { token },
    lazy: false,
    retryAttempts: 0,
  });
  await new Promise<void>((resolve, reject) => {
    ws.on('connected', () => resolve());
    ws.on('closed', (event) => reject(new Error(`graphql-ws closed: ${JSON.stringify(event)}`)));
  });
  return ws;
}

export interface JobSnapshot {
  id: string;
  state: string;
  backupId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  progress: { percent: number; etaSeconds: number | null; phase: string; updatedAt: string } | null;
}

const JOB_FIELDS = 'id state backupId errorCode errorMessage progress { percent etaSeconds phase updatedAt }';

/**
 * A job's events as the client saw them: `at` on the monotonic clock (ms, performance.now()) for
 * durations, `wallAt` (Date.now()) to compare with the server's progress.updatedAt.
 */
export interface Followed {
  events: { at: number; wallAt: number; job: JobSnapshot }[];
  final: JobSnapshot;
}

/** jobProgress until the job ends; rejects unless it succeeded. */
export function follow(ws: Client, jobId: string): Promise<Followed> {
  const events: Followed['events'] = [];
  return new Promise((resolve, reject) => {
    ws.subscribe<{ jobProgress: JobSnapshot }>(
      { query: `subscription($id: ID!) { jobProgress(jobId: $id) { ${JOB_FIELDS} } }`, variables: { id: jobId } },
      {
        next: ({ data, errors }) => {
          if (errors) return reject(new Error(`jobProgress: ${JSON.stringify(errors)}`));
          events.push({ at: performance.now(), wallAt: Date.now(), job: data!.jobProgress });
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => {
          const final = events.at(-1)?.job;
          if (final?.state === 'succeeded') resolve({ events, final });
          else reject(new Error(`job ${jobId} ended ${final?.state}: ${final?.errorCode} ${final?.errorMessage}`));
        },
      },
    );
  });
}

export type JobMutation = { field: string; query: string; variables: Record<string, unknown> };

/** Starts a job with a mutation whose result is `{ data: Job } | CodedError`; returns its id and start time. */
export async function startJob(api: Api, mutation: JobMutation): Promise<{ jobId: string; start: number }> {
  const start = performance.now();
  const result = await graphql<Record<string, { data?: { id: string }; code?: string; message?: string }>>(
    api.url,
    { token: api.token },
    mutation.query,
    mutation.variables,
  );
  const job = result[mutation.field]!;
  if (!job.data) throw new Error(`${mutation.field} refused: ${job.code} ${job.message}`);
  return { jobId: job.data.id, start };
}

/** Starts a job and follows it to success; `seconds` runs from the mutation to the last event. */
export async function runJob(api: Api, mutation: JobMutation) {
  const { jobId, start } = await startJob(api, mutation);
  // graphql-ws replays the job's current state first, so no event is lost to this late subscribe.
  const followed = await follow(api.ws, jobId);
  return { seconds: (followed.events.at(-1)!.at - start) / 1000, start, ...followed };
}

/** A stored backup's size, as the catalog records it. */
export async function backupSize(api: Api, id: string): Promise<number> {
  const data = await graphql<{ backup: { sizeBytes: number | string } }>(
    api.url,
    { token: api.token },
    'query($id: ID!) { backup(id: $id) { sizeBytes } }',
    { id },
  );
  return Number(data.backup.sizeBytes);
}

export const createBackup: JobMutation = {
  field: 'createBackup',
  query: `mutation { createBackup(description: "bench") { ... on MutationCreateBackupSuccess { data { id } } ... on CodedError { code message } } }`,
  variables: {},
};

export function restoreBackup(backupId: string, database: string, identity?: string): JobMutation {
  return {
    field: 'restoreBackup',
    query: `mutation($id: ID!, $db: String!, $identity: String) { restoreBackup(id: $id, confirmation: $db, identity: $identity, options: { safetySnapshot: false }) {
       ... on MutationRestoreBackupSuccess { data { id } } ... on CodedError { code message } } }`,
    variables: { id: backupId, db: database, identity },
  };
}
