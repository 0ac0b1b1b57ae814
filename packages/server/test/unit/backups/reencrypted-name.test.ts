import { describe, expect, it } from 'vitest';
import { reencryptedName } from '../../../src/modules/backups/reencrypt-backup.js';
import { isSafeObjectName } from '../../../src/storage/object-storage.js';

describe('reencryptedName', () => {
  it('puts a new generation beside the old name, keeps the extension and ends in .age', () => {
    const encrypted = reencryptedName('20261130T080000Z-app-1a2b3c4d.dump.zst.age');
    expect(encrypted).toMatch(/^20261130T080000Z-app-1a2b3c4d-r[0-9a-f]{8}\.dump\.zst\.age$/);
    expect(reencryptedName('20261130T080000Z-app-1a2b3c4d.sql.gz')).toMatch(/-1a2b3c4d-r[0-9a-f]{8}\.sql\.gz\.age$/);
    expect(isSafeObjectName(encrypted)).toBe(true);
  });

  it('replaces an earlier generation instead of piling them up, and never repeats the old name', () => {
    const first = reencryptedName('20261130T080000Z-app-1a2b3c4d.dump.age');
    const second = reencryptedName(first);
    expect(second).toMatch(/^20261130T080000Z-app-1a2b3c4d-r[0-9a-f]{8}\.dump\.age$/);
    expect(second).not.toBe(first);
  });
});
