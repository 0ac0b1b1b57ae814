import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../throwaway-postgres.js';

export interface S3TestServer {
  /** http://127.0.0.1:<port>: path-style addressing only. */
  endpoint: string;
  /** The one key pair the server knows (any other access key id is refused). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Multipart uploads started and neither completed nor aborted, as their object keys. */
  pendingUploads(bucket: string): Promise<string[]>;
  /** SIGKILL: a server gone midway, its connections cut. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));

/** A real S3 protocol server (s3rver) on a free port with a temporary directory, in a child process. */
export async function startS3Server(options: { buckets: string[] }): Promise<S3TestServer> {
  const directory = await mkdtemp(path.join(tmpdir(), 'pgbs-s3-'));
  const port = await freePort();
  const accessKeyId = `PGBSTEST${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = `pgbs-test-secret-${randomBytes(16).toString('hex')}`;
  let child: ChildProcess | null = null;

  const launch = async () => {
    // s3rver's continuation tokens are DES-encrypted, which OpenSSL 3 keeps in its legacy provider.
    const started = spawn(
      process.execPath,
      ['--openssl-legacy-provider', SCRIPT, JSON.stringify({ port, directory, buckets: options.buckets })],
      {
        env: { ...process.env, S3RVER_ACCESS_KEY_ID: accessKeyId, S3RVER_SECRET_ACCESS_KEY: secretAccessKey },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const stderr: string[] = [];
    started.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: started.stdout! });
      lines.once('line', () => resolve());
      started.once('exit', (code) =>
        reject(new Error(`s3rver exited (${code}) before listening:\n${stderr.join('')}`)),
      );
    });
    child = started;
  };
  const halt = async (signal: NodeJS.Signals) => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };

  await launch();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId,
    secretAccessKey,
    async pendingUploads(bucket) {
      const dir = path.join(directory, bucket, '._S3rver_uploads');
      const ids = await readdir(dir).catch(() => []);
      return Promise.all(ids.map((id) => readFile(path.join(dir, id, 'key'), 'utf8')));
    },
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await launch();
    },
    async stop() {
      await halt('SIGTERM');
      await rm(directory, { recursive: true, force: true });
    },
  };
}
