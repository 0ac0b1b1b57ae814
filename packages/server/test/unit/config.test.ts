import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('defaults to the embedded mode', () => {
    const config = loadConfig({});
    expect(config.databases).toEqual({ mode: 'embedded', port: 54329 });
    expect(config.port).toBe(4000);
    expect(config.backupDir).toBe(`${config.dataDir}/backups`);
    expect(config.maxUploadBytes).toBe(10 * 1024 ** 3);
    expect(config.maxExpansionRatio).toBe(200);
    expect(loadConfig({ MAX_EXPANSION_RATIO: '1000' }).maxExpansionRatio).toBe(1000);
    expect(() => loadConfig({ MAX_EXPANSION_RATIO: '1' })).toThrow(/MAX_EXPANSION_RATIO/);
    expect(config.uploadTempDir).toBe(path.join(config.backupDir, '.uploads'));
  });

  it('compresses with zstd by default; BACKUP_COMPRESSION is BACKUP_CODEC=gzip at its level', () => {
    expect(loadConfig({})).toMatchObject({ codec: 'zstd', compressionLevel: undefined });
    expect(loadConfig({ BACKUP_CODEC: 'zstd', BACKUP_LEVEL: '19' })).toMatchObject({
      codec: 'zstd',
      compressionLevel: 19,
    });
    expect(loadConfig({ BACKUP_CODEC: 'gzip', BACKUP_LEVEL: '0' })).toMatchObject({
      codec: 'gzip',
      compressionLevel: 0,
    });
    expect(loadConfig({ BACKUP_CODEC: 'none' })).toMatchObject({ codec: 'none', compressionLevel: undefined });
    expect(loadConfig({ BACKUP_COMPRESSION: '4' })).toMatchObject({ codec: 'gzip', compressionLevel: 4 });
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ BACKUP_CODEC: 'lz4' })).toEqual([
      expect.stringContaining('BACKUP_CODEC must be one of zstd, gzip, none'),
    ]);
    expect(problems({ BACKUP_LEVEL: '20' })).toEqual([
      expect.stringContaining('BACKUP_LEVEL must be an integer from 1 to 19'),
    ]);
    expect(problems({ BACKUP_CODEC: 'gzip', BACKUP_LEVEL: '10' })).toEqual([expect.stringContaining('from 0 to 9')]);
    expect(problems({ BACKUP_CODEC: 'none', BACKUP_LEVEL: '1' })).toEqual([
      expect.stringContaining('BACKUP_CODEC=none'),
    ]);
    expect(problems({ BACKUP_COMPRESSION: '1', BACKUP_CODEC: 'zstd' })).toEqual([expect.stringContaining('old name')]);
  });

  it('uses external servers when both URLs are set', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://a/app', METADATA_DATABASE_URL: 'postgres://a/meta' });
    expect(config.databases).toEqual({
      mode: 'external',
      targetUrl: 'postgres://a/app',
      metadataUrl: 'postgres://a/meta',
    });
  });

  it('accepts METADATA_DATABASE_URL alone: no default target', () => {
    const config = loadConfig({ METADATA_DATABASE_URL: 'postgres://a/meta' });
    expect(config.databases).toEqual({ mode: 'external', targetUrl: undefined, metadataUrl: 'postgres://a/meta' });
  });

  it("lists the endpoints that may receive the service's own S3 credentials by origin; none by default", () => {
    expect(loadConfig({}).s3EnvironmentCredentialEndpoints).toEqual([]);
    const listed = loadConfig({
      S3_ENV_CREDENTIALS_ENDPOINTS: ' https://MinIO.internal:9000/ , http://127.0.0.1:9000',
    });
    expect(listed.s3EnvironmentCredentialEndpoints).toEqual(['https://minio.internal:9000', 'http://127.0.0.1:9000']);
    expect(() => loadConfig({ S3_ENV_CREDENTIALS_ENDPOINTS: 'minio.internal' })).toThrow(
      /S3_ENV_CREDENTIALS_ENDPOINTS/,
    );
  });

  it('refuses DATABASE_URL without METADATA_DATABASE_URL, and two key sources', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://a/app' })).toThrow(/needs METADATA_DATABASE_URL/);
    expect(() => loadConfig({ MASTER_KEY: 'x', MASTER_KEY_FILE: '/k' })).toThrow(/MASTER_KEY or MASTER_KEY_FILE/);
  });

  it('lists every bad variable at once', () => {
    const error = (() => {
      try {
        loadConfig({
          DATABASE_URL: 'mysql://x/y',
          PORT: 'eighty',
          BACKUP_COMPRESSION: '12',
          ADMIN_PASSWORD: 'short',
          JOB_TIMEOUT_SECONDS: '-1',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'DATABASE_URL',
      'METADATA_DATABASE_URL',
      'PORT',
      'BACKUP_COMPRESSION',
      'ADMIN_PASSWORD',
      'JOB_TIMEOUT_SECONDS',
    ]) {
      expect(problems).toContain(name);
    }
  });

  it('refuses the target as metadata database', () => {
    expect(() =>
      loadConfig({ DATABASE_URL: 'postgres://h/app', METADATA_DATABASE_URL: 'postgres://u:p@h:5432/app' }),
    ).toThrow(/must not be the target/);
  });

  it('never includes a password from the URLs in its errors', () => {
    try {
      loadConfig({ DATABASE_URL: 'postgres://u:hunter2@h/app', PORT: 'x' });
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});
