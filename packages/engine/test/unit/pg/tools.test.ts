import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/errors.js';
import type { ProcessRunner, RunningProcess } from '../../../src/pg/process.js';
import { systemClock } from '../../../src/clock.js';
import { createToolResolver } from '../../../src/engine.js';
import { defaultToolDirs } from '../../../src/pg/tool-dirs.js';
import { parsePgVersion, supportsRestrict, versionFromNum } from '../../../src/pg/tools.js';

/**
 * A fake runner: `<dir>/<tool> --version` prints what the table says (it may change between calls,
 * like an installation); unknown paths fail to spawn. `spawned` counts the runs.
 */
function fakeRunner(versions: Record<string, string>): ProcessRunner & { spawned: number } {
  return {
    spawned: 0,
    spawn(file) {
      this.spawned++;
      const output = versions[file];
      if (output === undefined) throw Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const stdin = new PassThrough();
      stdout.end(`${output}\n`);
      stderr.end();
      const child: RunningProcess = {
        pid: 1,
        stdin,
        stdout,
        stderr,
        exit: Promise.resolve({ code: 0, signal: null }),
        kill: () => {},
      };
      return child;
    },
  };
}

function install(dir: string, version: string): Record<string, string> {
  return Object.fromEntries(
    ['pg_dump', 'pg_restore', 'psql'].map((tool) => [`${dir}/${tool}`, `${tool} (PostgreSQL) ${version}`]),
  );
}

function resolver(runner: ProcessRunner, candidateDirs: string[], pgBinDir?: string) {
  return createToolResolver({ runner, clock: systemClock, candidateDirs, pgBinDir });
}

describe('client tool selection', () => {
  it('parses the versions the tools print', () => {
    expect(parsePgVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toEqual({
      major: 15,
      minor: 18,
      text: '15.18 (Debian 15.18-0+deb12u1)',
    });
    expect(parsePgVersion('psql (PostgreSQL) 17beta1')).toMatchObject({ major: 17, minor: 0 });
    expect(parsePgVersion('something else')).toBeNull();
    expect(versionFromNum(150018, '15.18')).toEqual({ major: 15, minor: 18, text: '15.18' });
  });

  it('picks the newest installation at least as new as the server', async () => {
    const runner = fakeRunner({ ...install('/a', '14.10'), ...install('/b', '16.4'), ...install('/c', '15.18') });
    const tools = await resolver(runner, ['/a', '/b', '/c', '/missing']).selectTools(versionFromNum(150000, '15.0'));
    expect(tools.dir).toBe('/b');
    expect(tools.pgDump).toBe('/b/pg_dump');
  });

  it('ignores a directory whose three tools disagree', async () => {
    const mixed = { ...install('/mixed', '16.1'), '/mixed/psql': 'psql (PostgreSQL) 13.2' };
    const runner = fakeRunner({ ...mixed, ...install('/ok', '15.2') });
    const tools = await resolver(runner, ['/mixed', '/ok']).selectTools(versionFromNum(150000, '15.0'));
    expect(tools.dir).toBe('/ok');
  });

  it('names both versions and the fix when the client is too old', async () => {
    const runner = fakeRunner(install('/old', '13.5'));
    const error = await resolver(runner, ['/old'])
      .selectTools(versionFromNum(160002, '16.2'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('pg/version-mismatch');
    expect((error as EngineError).message).toMatch(/16\.2.*13\.5.*PG_BIN_DIR/s);
  });

  it('reports missing tools, and only looks in PG_BIN_DIR when it is set', async () => {
    const runner = fakeRunner(install('/usr/bin', '16.0'));
    const error = await resolver(runner, ['/usr/bin'], '/opt/pg')
      .selectTools(versionFromNum(150000, '15'))
      .catch((e: unknown) => e);
    expect((error as EngineError).code).toBe('pg/tool-not-found');
    expect((error as EngineError).message).toContain('/opt/pg');
  });

  it('probes the installations once, and again when none is new enough or none was found', async () => {
    const versions: Record<string, string> = {};
    const runner = fakeRunner(versions);
    const tools = resolver(runner, ['/a', '/b']);
    await expect(tools.selectTools(versionFromNum(150000, '15.0'))).rejects.toMatchObject({
      code: 'pg/tool-not-found',
    });
    Object.assign(versions, install('/a', '15.4'));
    expect((await tools.selectTools(versionFromNum(150000, '15.0'))).dir).toBe('/a');
    const probes = runner.spawned;
    expect((await tools.selectTools(versionFromNum(140000, '14.0'))).dir).toBe('/a');
    expect(runner.spawned).toBe(probes);
    // A newer server: the operator installs newer tools, and no restart is needed.
    Object.assign(versions, install('/b', '17.2'));
    expect((await tools.selectTools(versionFromNum(170000, '17.0'))).dir).toBe('/b');
    expect(runner.spawned).toBeGreaterThan(probes);
  });

  it('probes again when a tool it found was replaced (an upgrade in place), not before', async () => {
    const versions: Record<string, string> = install('/a', '15.13');
    const stamps = new Map<string, string>();
    const runner = fakeRunner(versions);
    const tools = createToolResolver({
      runner,
      clock: systemClock,
      candidateDirs: ['/a'],
      toolStamp: async (path) => stamps.get(path) ?? 'v1',
    });
    expect((await tools.selectTools(versionFromNum(150000, '15.0'))).version.minor).toBe(13);
    Object.assign(versions, install('/a', '15.14'));
    const probes = runner.spawned;
    expect((await tools.selectTools(versionFromNum(150000, '15.0'))).version.minor).toBe(13);
    expect(runner.spawned).toBe(probes);
    stamps.set('/a/psql', 'v2');
    expect((await tools.selectTools(versionFromNum(150000, '15.0'))).version.minor).toBe(14);
  });

  it("prefers the distribution's own directory to PATH on a tie in version, the newest version wherever it is", async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pgbs-tool-dirs-'));
    try {
      await mkdir(path.join(root, '15'));
      await mkdir(path.join(root, '16'));
      const dirs = defaultToolDirs(['/usr/bin', '/usr/local/bin'].join(path.delimiter), root);
      expect(dirs).toEqual([path.join(root, '16', 'bin'), path.join(root, '15', 'bin'), '/usr/bin', '/usr/local/bin']);
      // /usr/bin: Debian's pg_wrapper in front of the same 16.4.
      const tied = fakeRunner({ ...install('/usr/bin', '16.4'), ...install(path.join(root, '16', 'bin'), '16.4') });
      expect((await resolver(tied, dirs).selectTools(versionFromNum(150000, '15.0'))).dir).toBe(
        path.join(root, '16', 'bin'),
      );
      const newer = fakeRunner({
        ...install('/usr/local/bin', '16.5'),
        ...install(path.join(root, '16', 'bin'), '16.4'),
      });
      expect((await resolver(newer, dirs).selectTools(versionFromNum(150000, '15.0'))).dir).toBe('/usr/local/bin');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('knows which psql releases have \\restrict', () => {
    expect(supportsRestrict({ major: 15, minor: 13, text: '' })).toBe(false);
    expect(supportsRestrict({ major: 15, minor: 14, text: '' })).toBe(true);
    expect(supportsRestrict({ major: 17, minor: 6, text: '' })).toBe(true);
    expect(supportsRestrict({ major: 12, minor: 99, text: '' })).toBe(false);
    expect(supportsRestrict({ major: 18, minor: 0, text: '' })).toBe(true);
  });
});
