import { describe, expect, it } from 'vitest';
import { switchCatalog } from '../../../src/modules/backups/reencrypt-switch.js';

const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'CONNECTION_CLOSED' });
const names = { backupId: 'b1', from: 'old.dump.zst', to: 'old-r0000abcd.dump.zst.age' };

describe('switchCatalog', () => {
  it('says what the switch answered', async () => {
    expect(await switchCatalog({ ...names, switch: async () => true, named: async () => names.from })).toBe('switched');
    expect(await switchCatalog({ ...names, switch: async () => false, named: async () => names.to })).toBe('refused');
  });

  it('a switch whose reply was lost but which committed: switched (the old objects may go, not the new)', async () => {
    expect(
      await switchCatalog({
        ...names,
        switch: async () => {
          throw lost;
        },
        named: async () => names.to,
      }),
    ).toBe('switched');
  });

  it('a switch that did not commit: its error (the new objects may go)', async () => {
    await expect(
      switchCatalog({
        ...names,
        switch: async () => {
          throw lost;
        },
        named: async () => names.from,
      }),
    ).rejects.toBe(lost);
  });

  it('neither known (the catalog unreadable, or naming something else): backup/switch-unconfirmed, naming both', async () => {
    for (const named of [
      async () => {
        throw lost;
      },
      async () => null,
      async () => 'other.dump',
    ]) {
      const error = await switchCatalog({
        ...names,
        switch: async () => {
          throw lost;
        },
        named,
      }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'backup/switch-unconfirmed' });
      expect((error as Error).message).toContain(names.from);
      expect((error as Error).message).toContain(names.to);
    }
  });
});
