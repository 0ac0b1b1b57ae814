import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ApiEnv, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');

/** fetch normalises "..", so path traversal is sent raw. */
function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = request({ host: url.hostname, port: url.port, path: rawPath }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the built panel at /', () => {
  let api: ApiEnv;
  let panelDir: string;

  beforeAll(async () => {
    panelDir = await mkdtemp(path.join(tmpdir(), 'pgbs-panel-'));
    await mkdir(path.join(panelDir, 'assets'));
    await writeFile(path.join(panelDir, 'index.html'), '<!doctype html><div id="app"></div>');
    await writeFile(path.join(panelDir, 'assets', 'index-abc123.js'), 'console.log(1)');
    api = await startApi(adminUrl, 'panel', { PANEL_DIR: panelDir });
  });
  afterAll(async () => {
    await api?.close();
    await rm(panelDir, { recursive: true, force: true });
  });

  it('serves index.html for the app and its deep links, and hashed assets with long caching', async () => {
    for (const page of ['/', '/login', '/settings/backups']) {
      const response = await fetch(`${api.http.url}${page}`);
      expect(response.status, page).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await response.text()).toContain('id="app"');
    }
    const asset = await fetch(`${api.http.url}/assets/index-abc123.js`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).toBe('console.log(1)');
  });

  it('never serves files outside the build, and leaves /graphql to the API', async () => {
    const traversal = await rawGet(api.http.url, '/../../../../etc/passwd');
    expect(traversal.body).not.toContain('root:');
    const encoded = await rawGet(api.http.url, '/%2e%2e/%2e%2e/%2e%2e/etc/passwd');
    expect(encoded.body).not.toContain('root:');
    const graphql = await api.gql('{ me { email } }');
    expect(graphql.data).toEqual({ me: null });
    expect((await fetch(`${api.http.url}/`, { method: 'POST' })).status).toBe(404);
  });
});
