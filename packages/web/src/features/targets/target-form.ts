import { messageFor } from '@/errors/messages';
import { formatBytes } from '@/format/format';
import type { ResultOf, VariablesOf } from '@/graphql/graphql';
import type { AddTargetMutation, TargetTestFields } from '@/graphql/targets';

export type TargetTest = ResultOf<typeof TargetTestFields>;
type AddTargetInput = VariablesOf<typeof AddTargetMutation>['input'];

/** What both the add and the edit form carry besides the connection. */
export interface TargetOptionsForm {
  /** Comma- or space-separated database names (whole-server targets only). */
  excludeDatabases: string;
  keepGlobals: boolean;
  globalsWithPasswords: boolean;
}

export interface TargetForm extends TargetOptionsForm {
  name: string;
  url: string;
  password: string;
  kind: 'database' | 'server';
}

export const EMPTY_TARGET_FORM: TargetForm = {
  name: '',
  url: '',
  password: '',
  kind: 'database',
  excludeDatabases: '',
  keepGlobals: false,
  globalsWithPasswords: false,
};

/** "a, b  c" → ["a", "b", "c"]: database names never contain commas or spaces in practice, and the server checks them. */
export function databaseList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** The options as the API takes them; exclusions only mean something for a whole server. */
export function targetOptionsInput(options: TargetOptionsForm, kind: string) {
  return {
    keepGlobals: options.keepGlobals,
    // Passwords of roles are only ever kept beside roles that are kept.
    globalsWithPasswords: options.keepGlobals && options.globalsWithPasswords,
    ...(kind === 'server' ? { excludeDatabases: databaseList(options.excludeDatabases) } : {}),
  };
}

/** A password typed into the URL would be stored and shown in clear: it belongs in its own field. */
export function urlProblem(url: string): string | null {
  const trimmed = url.trim();
  if (!trimmed) return null;
  if (!/^postgres(ql)?:\/\//.test(trimmed) || !URL.canParse(trimmed)) {
    return 'A postgres:// URL, e.g. postgres://backup@db.example:5432/shop.';
  }
  if (new URL(trimmed).password) return messageFor('target/password-in-url');
  return null;
}

/** The form as addTarget's input; an empty password is left out (the target may use a .pgpass or trust). */
export function addTargetInput(form: TargetForm): AddTargetInput {
  return {
    name: form.name.trim(),
    url: form.url.trim(),
    kind: form.kind,
    ...targetOptionsInput(form, form.kind),
    ...(form.password ? { password: form.password } : {}),
  };
}

/** What a connection test found, as short facts; a failure is its coded message. */
export function testFacts(test: TargetTest): { label: string; value: string }[] {
  if (!test.ok) return [{ label: 'Error', value: messageFor(test.errorCode) }];
  const facts = [
    { label: 'PostgreSQL', value: test.serverVersion ?? '—' },
    { label: 'Client tools', value: test.clientVersion ?? '—' },
    { label: 'Connects as', value: test.role ? `${test.role}${test.superuser ? ' (superuser)' : ''}` : '—' },
  ];
  if (test.owner) facts.push({ label: 'Owner', value: test.owner });
  if (test.sizeBytes !== null && test.sizeBytes !== undefined) {
    facts.push({ label: 'Size', value: formatBytes(test.sizeBytes) });
  }
  if (test.restore && test.restore !== 'owner' && test.restore !== 'superuser') {
    facts.push({ label: 'Restores', value: messageFor(test.restore) });
  }
  if (test.syncedDatabases) facts.push({ label: 'Databases', value: test.syncedDatabases.join(', ') || 'none' });
  return facts;
}
