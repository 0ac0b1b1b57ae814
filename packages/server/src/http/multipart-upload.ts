import type { IncomingMessage } from 'node:http';
import { type Readable, Transform } from 'node:stream';
import busboy from 'busboy';
import type { GraphQLParams } from 'graphql-yoga';
import type { UploadSpool } from '../storage/spooled-file.js';

/** A refusal of the multipart body itself; the Yoga plugin turns it into a GraphQL error response. */
export class UploadRefusal extends Error {
  override readonly name = 'UploadRefusal';
  constructor(
    readonly status: 400 | 413,
    readonly code: 'upload/invalid' | 'upload/too-large',
    message: string,
  ) {
    super(message);
  }
}

// Our mutations take one file; a few more are harmless, thousands of tiny parts are not.
const MAX_FILES = 4;
const MAX_FIELD_BYTES = 1_000_000;

/** The largest body that can carry files within `maxFileBytes` (fields and part headers included). */
export function largestBody(maxFileBytes: number): number {
  return maxFileBytes + 2 * MAX_FIELD_BYTES + 64 * 1024;
}

export function tooLarge(maxFileBytes: number): UploadRefusal {
  return new UploadRefusal(413, 'upload/too-large', `The upload is larger than the limit of ${maxFileBytes} bytes.`);
}

function invalid(message: string): UploadRefusal {
  return new UploadRefusal(400, 'upload/invalid', message);
}

/**
 * Reads a GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec): the
 * `operations` field, then `map`, then the files, each streamed into a temp file of `spool`.
 * Resolves with the operation whose variables hold SpooledFiles. Rejects with an UploadRefusal, or
 * when the client goes away; on a refusal the rest of the body is left unread. The caller cleans
 * up the spool.
 */
export function parseMultipartUpload(
  req: IncomingMessage,
  spool: UploadSpool,
  maxFileBytes: number,
): Promise<GraphQLParams> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // Browsers, fetch and curl send file names as raw UTF-8 (busboy's default is latin1).
        defParamCharset: 'utf8',
        // busboy reports 'limit' on reaching fileSize, so + 1: a file of exactly the limit is fine.
        limits: { fileSize: maxFileBytes + 1, files: MAX_FILES, fields: 2, fieldSize: MAX_FIELD_BYTES },
      });
    } catch (error) {
      reject(invalid(`Not a multipart request: ${(error as Error).message}`));
      return;
    }
    let operations: GraphQLParams | undefined;
    let map: Map<string, string[][]> | undefined;
    const writes: Promise<void>[] = [];
    let totalBytes = 0;
    let failed = false;

    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      // Stop reading: the client's remaining bytes stay unread and the connection is closed after the
      // response. busboy is left alone (destroying it from its own callbacks breaks it); the caller's
      // spool cleanup ends the file streams still open.
      req.unpipe(parser);
      req.pause();
      reject(error);
    };
    const guarded =
      <A extends unknown[]>(handler: (...args: A) => void) =>
      (...args: A) => {
        try {
          handler(...args);
        } catch (error) {
          fail(error);
        }
      };
    // Counts every file's bytes together; busboy's fileSize only limits each file.
    const sizeCheck = () =>
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          totalBytes += chunk.length;
          callback(totalBytes > maxFileBytes ? tooLarge(maxFileBytes) : null, chunk);
        },
      });

    parser.on(
      'field',
      guarded((name: string, value: string, info: busboy.FieldInfo) => {
        if (info.valueTruncated) throw invalid(`The "${name}" field is larger than ${MAX_FIELD_BYTES} bytes.`);
        if (name === 'operations' && !operations) operations = parseOperations(value);
        else if (name === 'map' && operations && !map) map = parseMap(value, operations);
        else throw invalid('Expected the fields "operations", then "map", then the files.');
      }),
    );
    parser.on(
      'file',
      guarded((name: string, stream: Readable, info: busboy.FileInfo) => {
        const target = operations;
        const paths = map?.get(name);
        if (!target || !map || !paths) {
          stream.resume();
          throw invalid(
            map
              ? `The file "${name}" is not in the map (or came twice).`
              : 'The fields "operations" and "map" must come before the files.',
          );
        }
        map.delete(name);
        stream.once('limit', () => fail(tooLarge(maxFileBytes)));
        writes.push(
          spool.write(stream, sizeCheck(), { filename: info.filename ?? '', mimeType: info.mimeType }).then((file) => {
            for (const keys of paths) placeAt(target, keys, file);
          }, fail),
        );
      }),
    );
    parser.on('filesLimit', () => fail(invalid(`At most ${MAX_FILES} files per request.`)));
    parser.on('fieldsLimit', () => fail(invalid('Expected only the fields "operations" and "map".')));
    parser.on('error', (error: Error) => fail(invalid(`Malformed multipart body: ${error.message}`)));
    parser.on('close', () => {
      // Every file stream has ended; wait until the temp files are written.
      void Promise.all(writes).then(() => {
        if (failed) return;
        if (!operations || !map) fail(invalid('The "operations" and "map" fields are missing.'));
        else if (map.size > 0) fail(invalid(`Files missing from the request: ${[...map.keys()].join(', ')}.`));
        else resolve(operations);
      });
    });
    req.once('error', () => fail(invalid('The upload was interrupted.')));
    req.once('close', () => {
      if (!req.complete) fail(invalid('The upload was interrupted.'));
    });
    req.pipe(parser);
  });
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(`The "${name}" field is not valid JSON.`);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One operation (batches are not supported) with its query. */
function parseOperations(text: string): GraphQLParams {
  const value = parseJson('operations', text);
  if (!isObject(value) || typeof value.query !== 'string') {
    throw invalid('"operations" must be one GraphQL operation: an object with a "query".');
  }
  if (value.variables !== undefined && value.variables !== null && !isObject(value.variables)) {
    throw invalid('"operations.variables" must be an object.');
  }
  return value as GraphQLParams;
}

/**
 * `{ "<file field>": ["variables.<path>", ...] }`, each path naming a null placeholder in the
 * operation. Only own properties are followed, so "__proto__" and the like reach nothing else.
 */
function parseMap(text: string, operations: GraphQLParams): Map<string, string[][]> {
  const value = parseJson('map', text);
  if (!isObject(value)) throw invalid('"map" must be an object of file field names to paths.');
  const map = new Map<string, string[][]>();
  for (const [field, paths] of Object.entries(value)) {
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string')) {
      throw invalid(`"map.${field}" must be a list of paths.`);
    }
    map.set(
      field,
      paths.map((path: string) => {
        const keys = path.split('.');
        if (keys[0] !== 'variables' || parentAt(operations, keys)?.[keys.at(-1)!] !== null) {
          throw invalid(`"${path}" is not a null placeholder in the operation's variables.`);
        }
        return keys;
      }),
    );
  }
  return map;
}

/** The object (or array) holding the path's last key, following own properties only. */
function parentAt(root: object, keys: string[]): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const [index, key] of keys.entries()) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    if (index === keys.length - 1) return node as Record<string, unknown>;
    node = (node as Record<string, unknown>)[key];
  }
  return undefined;
}

function placeAt(root: object, keys: string[], value: unknown): void {
  parentAt(root, keys)![keys.at(-1)!] = value;
}
