import { describe, expect, it } from 'vitest';
import { recoveryKit } from '../../../src/modules/keys/recovery-kit.js';

const recipient = { name: 'offline', recipient: 'age1example', fingerprint: 'abc123' };

describe('recoveryKit', () => {
  const lines = recoveryKit(recipient).split('\n');
  // The command lines (indented 7), not the prose around them.
  const restoring = lines.filter((line) => /^ {7}\S/.test(line) && /\b(pg_restore|psql) /.test(line));

  it('has every restoring command connect as the owner, never a superuser', () => {
    expect(restoring.length).toBeGreaterThanOrEqual(3);
    for (const line of restoring) {
      expect(line).toContain('-U <owner>');
      expect(line).not.toMatch(/-U postgres|--role/);
    }
  });

  it('says why, and leaves only the createdb to the superuser', () => {
    const text = lines.join('\n');
    expect(text).toMatch(/never as a superuser/);
    expect(text).toContain('createdb -h <host> -U postgres -O <owner> <database>');
  });
});
