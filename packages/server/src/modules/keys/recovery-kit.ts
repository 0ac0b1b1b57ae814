import type { RecipientView } from './recipient-view.js';

/**
 * The steps to read a backup by hand on a bare machine (Debian's age, zstd and the PostgreSQL
 * client), for the administrator to print and keep with the identity. Plain text: it has no secret
 * unless the caller adds the identity (key generate does, once).
 */
export function recoveryKit(
  recipient: Pick<RecipientView, 'name' | 'recipient' | 'fingerprint'>,
  identity?: string,
): string {
  return [
    `pgbs recovery kit for key "${recipient.name}"`,
    `recipient (public):  ${recipient.recipient}`,
    `fingerprint:         ${recipient.fingerprint}   (manifests list it under recipientFingerprints)`,
    '',
    'WARNING: the identity (AGE-SECRET-KEY-1…) is the only way to read backups encrypted to',
    'this key. The service does not keep it. Lose it and those backups are lost: keep a copy offline',
    '(printed, or on a separate medium) and another in a password manager.',
    '',
    ...(identity
      ? [
          'Save these lines as key.txt (chmod 600):',
          '',
          `# pgbs key ${recipient.name}`,
          `# public key: ${recipient.recipient}`,
          identity,
          '',
        ]
      : ['key.txt is the identity file key generate printed or wrote (--out), "# " comment lines allowed.', '']),
    'To restore a backup without the service (Debian 12: apt-get install age zstd postgresql-client):',
    '',
    '  1. Take the backup file (<name>.dump.zst.age) and its manifest (<name>.manifest.json).',
    '     Check the stored digest:   sha256sum <name>.dump.zst.age   (= the manifest\'s "sha256")',
    '  2. Decrypt and decompress:    age -d -i key.txt <name>.dump.zst.age | zstd -d > <name>.dump',
    '     (age refuses a wrong key before writing anything; a damaged file fails, never half-reads)',
    '  3. Check the content digest:  sha256sum <name>.dump   (= the manifest\'s "contentSha256")',
    "  4. Restore into an empty database you created (owner: the application's role):",
    '       pg_restore --no-owner --role=<owner> --exit-on-error --single-transaction -d <database> <name>.dump',
    '     or in one pass, without the intermediate file:',
    '       age -d -i key.txt <name>.dump.zst.age | zstd -d | pg_restore --exit-on-error --single-transaction -d <database>',
    '     A plain-format backup (<name>.sql.zst.age) goes to psql instead:',
    '       age -d -i key.txt <name>.sql.zst.age | zstd -d | psql -v ON_ERROR_STOP=1 --single-transaction -d <database>',
    '  5. An encrypted manifest keeps table names and sizes in "sealedFields":',
    '       jq -r .sealedFields <name>.manifest.json | base64 -d | age -d -i key.txt',
    '',
  ].join('\n');
}
