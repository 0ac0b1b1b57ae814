import { stringifyDocument } from '@urql/vue';
import type { TadaDocumentNode } from 'gql.tada';
import { CSRF_HEADERS, GRAPHQL_PATH } from './client';
import { UNAUTHENTICATED, notifySessionExpired } from './session-expiry';

/** No byte sent for this long: the connection is dead even if the browser has not noticed. */
const STALL_TIMEOUT_MS = 60_000;

export interface UploadProgress {
  loaded: number;
  total: number;
}

export type UploadOutcome<Result> =
  | { kind: 'data'; data: Result }
  /** A top-level GraphQL error (refused before or while the file streamed in). */
  | { kind: 'refused'; code: string | null }
  | { kind: 'network' }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

export interface UploadCallbacks {
  onProgress(progress: UploadProgress): void;
  /** Every byte is sent; the server is now validating the file. */
  onSent(): void;
}

export interface RunningUpload<Result> {
  outcome: Promise<UploadOutcome<Result>>;
  abort(): void;
}

interface GraphQLResponse<Result> {
  data?: Result | null;
  errors?: { extensions?: { code?: unknown } }[];
}

/**
 * One mutation with one file, as a GraphQL multipart request ("operations", "map", then the file),
 * through XMLHttpRequest: fetch cannot report upload progress.
 */
export function sendMultipart<Result, Variables extends { file: File }>(
  document: TadaDocumentNode<Result, Variables>,
  variables: Variables,
  callbacks: UploadCallbacks,
): RunningUpload<Result> {
  const { file, ...rest } = variables;
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: stringifyDocument(document), variables: { ...rest, file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', file, file.name);

  const xhr = new XMLHttpRequest();
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  let stalled = false;
  const watchStall = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      stalled = true;
      xhr.abort();
    }, STALL_TIMEOUT_MS);
  };

  const outcome = new Promise<UploadOutcome<Result>>((resolve) => {
    const finish = (result: UploadOutcome<Result>) => {
      clearTimeout(stallTimer);
      resolve(result);
    };
    xhr.upload.addEventListener('progress', (event) => {
      watchStall();
      callbacks.onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size });
    });
    xhr.upload.addEventListener('load', () => {
      // Validating a large file takes the server a while; that is not a stall.
      clearTimeout(stallTimer);
      callbacks.onSent();
    });
    xhr.addEventListener('load', () => finish(parseResponse<Result>(xhr.responseText)));
    xhr.addEventListener('error', () => finish({ kind: 'network' }));
    xhr.addEventListener('abort', () => finish({ kind: stalled ? 'timeout' : 'aborted' }));
  });

  xhr.open('POST', GRAPHQL_PATH);
  xhr.withCredentials = true;
  for (const [name, value] of Object.entries(CSRF_HEADERS)) xhr.setRequestHeader(name, value);
  xhr.setRequestHeader('accept', 'application/graphql-response+json, application/json');
  xhr.send(form);
  watchStall();

  return { outcome, abort: () => xhr.abort() };
}

function parseResponse<Result>(text: string): UploadOutcome<Result> {
  let body: GraphQLResponse<Result>;
  try {
    body = JSON.parse(text) as GraphQLResponse<Result>;
  } catch {
    return { kind: 'network' };
  }
  if (body.errors?.length) {
    const code = body.errors.map((e) => e.extensions?.code).find((c) => typeof c === 'string') ?? null;
    if (code === UNAUTHENTICATED) notifySessionExpired();
    return { kind: 'refused', code };
  }
  return body.data ? { kind: 'data', data: body.data } : { kind: 'network' };
}
