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
    "  4. Restore into an empty database you created, owned by the application's login role, and",
    '     connect AS THAT ROLE (-U <owner>), never as a superuser such as postgres: a dump is a',
    '     script, and a tampered one runs with the rights of whoever restores it (a superuser may',
    '     read files and run programs on the server; --role does not stop it, the script can RESET',
    '     ROLE). As a superuser, only create the database:',
    '       createdb -h <host> -U postgres -O <owner> <database>',
    '     then, as the owner:',
    '       pg_restore -h <host> -U <owner> --no-owner --no-privileges --exit-on-error --single-transaction -d <database> <name>.dump',
    '     or in one pass, without the intermediate file:',
    '       age -d -i key.txt <name>.dump.zst.age | zstd -d | pg_restore -h <host> -U <owner> --no-owner --no-privileges --exit-on-error --single-transaction -d <database>',
    '     A plain-format backup (<name>.sql.zst.age) goes to psql instead, also as the owner:',
    '       age -d -i key.txt <name>.sql.zst.age | zstd -d | psql -h <host> -U <owner> -v ON_ERROR_STOP=1 --single-transaction -d <database>',
    '  5. An encrypted manifest keeps table names and sizes in "sealedFields":',
    '       jq -r .sealedFields <name>.manifest.json | base64 -d | age -d -i key.txt',
    '',
  ].join('\n');
}
