import type { S3Credentials } from '../storage/s3-storage.js';
import { CliError } from './errors.js';
import { promptPassword, readPasswordFile } from './password-input.js';

/**
 * An S3 credentials file: `aws_access_key_id = …` and `aws_secret_access_key = …` lines (an AWS
 * credentials file with one profile, or AWS_ACCESS_KEY_ID=… / AWS_SECRET_ACCESS_KEY=… as in an
 * env file), or a JSON object with accessKeyId and secretAccessKey.
 */
export function parseS3CredentialsFile(text: string, file: string): S3Credentials {
  const trimmed = text.trim();
  let found: Partial<S3Credentials> = {};
  if (trimmed.startsWith('{')) {
    try {
      const json = JSON.parse(trimmed) as Record<string, unknown>;
      found = {
        accessKeyId: typeof json.accessKeyId === 'string' ? json.accessKeyId : undefined,
        secretAccessKey: typeof json.secretAccessKey === 'string' ? json.secretAccessKey : undefined,
      };
    } catch {
      // Reported below, without the content.
    }
  } else {
    for (const line of trimmed.split(/\r?\n/)) {
      const match = /^\s*(?:export\s+)?([A-Za-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (!match) continue;
      const value = match[2]!.replace(/^(["'])(.*)\1$/, '$2');
      const key = match[1]!.toLowerCase();
      if (key === 'aws_access_key_id') found.accessKeyId = value;
      if (key === 'aws_secret_access_key') found.secretAccessKey = value;
    }
  }
  if (!found.accessKeyId || !found.secretAccessKey) {
    // Never the content: it holds a secret, maybe with one character wrong.
    throw new CliError(
      'cli/usage',
      `${file} holds no S3 credentials: write aws_access_key_id = … and aws_secret_access_key = … lines, or JSON {"accessKeyId", "secretAccessKey"}.`,
    );
  }
  return { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey };
}

/**
 * Where S3 credentials come from, in order: --credentials-file, AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a prompt on a terminal; null when none applies (the service then uses
 * the SDK's default chain at run time: its environment, an instance role). Never argv.
 */
export async function s3Credentials(options: { file?: string; prompt: boolean }): Promise<S3Credentials | null> {
  if (options.file) return parseS3CredentialsFile(await readPasswordFile(options.file), options.file);
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
  if (options.prompt && process.stdin.isTTY) {
    const id = await promptPassword('Access key id (empty for none: an instance role or the environment): ');
    if (!id) return null;
    return { accessKeyId: id, secretAccessKey: await promptPassword('Secret access key (not shown): ') };
  }
  return null;
}
