import { describe, expect, it } from 'vitest';
import { requireCredentialSource } from '../../../src/modules/destinations/add-destination.js';
import { requireEnvironmentEndpoint, s3Storage } from '../../../src/storage/s3-storage.js';

const codeOf = (run: () => unknown) => {
  try {
    run();
    return null;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe("the service's own S3 credentials", () => {
  const refused = 'destination/environment-credentials-refused';

  it('go to AWS (a region, no endpoint) and to listed endpoints only, compared by origin', () => {
    const environment = { credentialSource: 'environment' as const };
    expect(codeOf(() => requireEnvironmentEndpoint({ ...environment, endpoint: null }, []))).toBeNull();
    expect(codeOf(() => requireEnvironmentEndpoint({ ...environment, endpoint: 'https://evil.example' }, []))).toBe(
      refused,
    );
    const listed = ['https://minio.internal:9000'];
    expect(
      codeOf(() => requireEnvironmentEndpoint({ ...environment, endpoint: 'https://MINIO.internal:9000/' }, listed)),
    ).toBeNull();
    for (const endpoint of ['http://minio.internal:9000', 'https://minio.internal', 'https://minio.internal.evil:9000'])
      expect(
        codeOf(() => requireEnvironmentEndpoint({ ...environment, endpoint }, listed)),
        endpoint,
      ).toBe(refused);
    // Stored credentials go wherever the destination points: they were given for it.
    expect(
      codeOf(() => requireEnvironmentEndpoint({ credentialSource: 'stored', endpoint: 'https://evil.example' }, [])),
    ).toBeNull();
    expect(
      codeOf(() =>
        requireCredentialSource({ credentialSource: 'environment', endpoint: 'https://evil.example' }, false),
      ),
    ).toBe(refused);
  });

  it('a stored row that points them elsewhere fails at use, before a request is sent', async () => {
    const storage = s3Storage(
      { endpoint: 'http://127.0.0.1:9', bucket: 'bucket', pathStyle: true, credentialSource: 'environment' },
      null,
      { maxAttempts: 1 },
    );
    // Port 9 (discard) would answer destination/unreachable if a connection were tried.
    await expect(storage.stat('x')).rejects.toMatchObject({ code: refused });
  });
});
