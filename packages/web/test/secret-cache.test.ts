import { Client, fetchExchange } from '@urql/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cacheExchangeSparingSecrets } from '@/api/secret-cache';
import { RestoreBackupMutation, RestoreCheckQuery } from '@/graphql/backups';
import { JobsQuery } from '@/graphql/jobs';
import { watchMaps } from './support/retained';

const IDENTITY = 'AGE-SECRET-KEY-1QQQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSQ9VFX2E';
/** A server that answers by operation, and the operations it was asked. */
function setup() {
  const asked: { operationName: string; variables: Record<string, unknown> }[] = [];
  const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as { operationName: string; variables: Record<string, unknown> };
    asked.push(body);
    const data = {
      RestoreCheck: { restoreCheck: { __typename: 'RestoreCheck', mode: 'owner' } },
      Jobs: { jobs: [{ __typename: 'Job', id: 'j1' }] },
      RestoreBackup: {
        restoreBackup: { __typename: 'MutationRestoreBackupSuccess', data: { __typename: 'Job', id: 'j2' } },
      },
    }[body.operationName];
    return new Response(JSON.stringify({ data }), { headers: { 'content-type': 'application/json' } });
  });
  // POST, as the panel sends them (a GET would carry the identity in the address).
  const client = new Client({
    url: 'http://localhost/graphql',
    preferGetMethod: false,
    fetch,
    exchanges: [cacheExchangeSparingSecrets, fetchExchange],
  });
  const times = (operationName: string) => asked.filter((body) => body.operationName === operationName).length;
  return { client, asked, times };
}

let maps: ReturnType<typeof watchMaps> | undefined;
afterEach(() => {
  maps?.stop();
  maps = undefined;
});

describe('cacheExchangeSparingSecrets', () => {
  it('caches a query that carries no secret, as the document cache does', async () => {
    const { client, times } = setup();
    expect((await client.query(RestoreCheckQuery, { id: 'b1', identity: null }).toPromise()).data).toBeTruthy();
    await client.query(RestoreCheckQuery, { id: 'b1', identity: null }).toPromise();
    expect(times('RestoreCheck')).toBe(1);
  });

  it('answers a query with an identity from the server each time, and keeps nothing of it', async () => {
    maps = watchMaps();
    const { client, asked, times } = setup();
    const first = await client.query(RestoreCheckQuery, { id: 'b1', identity: IDENTITY }).toPromise();
    expect(first.data).toEqual({ restoreCheck: { __typename: 'RestoreCheck', mode: 'owner' } });
    expect(asked[0]!.variables).toEqual({ id: 'b1', identity: IDENTITY });
    await client.query(RestoreCheckQuery, { id: 'b1', identity: IDENTITY }).toPromise();
    expect(times('RestoreCheck')).toBe(2);
    // The client and its exchanges hold nothing of the identity once the queries ended.
    expect(maps.holding(IDENTITY)).toBe(0);
    // And the watch sees the variables of a query the cache kept.
    await client.query(RestoreCheckQuery, { id: 'b-kept-by-the-cache', identity: null }).toPromise();
    expect(maps.holding('b-kept-by-the-cache')).toBeGreaterThan(0);
  });

  it('still lets a mutation that carries an identity invalidate the cached queries of its types', async () => {
    const { client, times } = setup();
    await client.query(JobsQuery, {}).toPromise();
    await client.query(JobsQuery, {}).toPromise();
    expect(times('Jobs')).toBe(1);
    await client
      .mutation(RestoreBackupMutation, { id: 'b1', confirmation: 'workload_tracker', identity: IDENTITY })
      .toPromise();
    await client.query(JobsQuery, {}).toPromise();
    expect(times('Jobs')).toBe(2);
  });
});
