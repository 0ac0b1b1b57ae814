import { type InspectRequest, readTocEntries } from '../archive/inspect.js';
import { isArchive } from '../archive/sniff.js';
import { queryJson, quoteLiteral } from '../pg/catalog.js';
import type { PgTarget } from '../pg/connection.js';
import type { TocEntry } from '../progress/toc-list.js';

/** Something a restore running with the owner's rights cannot create (archive) or drop (target). */
export interface UnrestorableItem {
  where: 'archive' | 'target';
  /** e.g. "EVENT TRIGGER", "EXTENSION", "SCHEMA", "owner". */
  kind: string;
  name: string;
  reason: string;
  /** Whether skipUnrestorable can leave it out (archive) or leave it in place (target). */
  skippable: boolean;
}

export interface RestorePlan {
  unrestorable: UnrestorableItem[];
  /** Archive entries that skipUnrestorable leaves out, with every entry that depends on them. */
  skipDumpIds: number[];
}

export interface PlanRequest extends InspectRequest {
  /** Reads the target's catalog: the owner connection, or the superuser one (it only reads). */
  catalog: PgTarget;
  owner: string;
  noOwner: boolean;
}

interface TargetFacts {
  /** Roles whose objects the owner may alter and drop (itself and the roles it is a member of). */
  ownerRoles: string[];
  roles: string[];
  /** Extensions the owner may create: available and trusted. */
  trustedExtensions: string[];
  availableExtensions: string[];
  undroppable: { kind: string; name: string; inDroppedSchema: string | null }[];
}

// Objects in the target that the reset would drop but the owner may not: event triggers and
// languages need a superuser; schemas, extensions, publications, wrappers and large objects need
// their owner. Extension members go with their extension.
const targetFactsSql = (owner: string) => `
WITH o AS (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = ${quoteLiteral(owner)}),
notmine(kind, name, owner, classid, objid, nsp) AS (
  SELECT 'EVENT TRIGGER', e.evtname::text, e.evtowner, 'pg_catalog.pg_event_trigger'::pg_catalog.regclass, e.oid, f.pronamespace
    FROM pg_catalog.pg_event_trigger e JOIN pg_catalog.pg_proc f ON f.oid = e.evtfoid
  UNION ALL SELECT 'SCHEMA', n.nspname::text, n.nspowner, 'pg_catalog.pg_namespace'::pg_catalog.regclass, n.oid, NULL::oid FROM pg_catalog.pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  UNION ALL SELECT 'EXTENSION', x.extname::text, x.extowner, 'pg_catalog.pg_extension'::pg_catalog.regclass, x.oid, x.extnamespace FROM pg_catalog.pg_extension x
    WHERE x.extname <> 'plpgsql'
  UNION ALL SELECT 'PUBLICATION', p.pubname::text, p.pubowner, 'pg_catalog.pg_publication'::pg_catalog.regclass, p.oid, NULL FROM pg_catalog.pg_publication p
  UNION ALL SELECT 'FOREIGN DATA WRAPPER', w.fdwname::text, w.fdwowner, 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass, w.oid,
      (SELECT f.pronamespace FROM pg_catalog.pg_proc f WHERE f.oid = w.fdwhandler) FROM pg_catalog.pg_foreign_data_wrapper w
  UNION ALL SELECT 'LANGUAGE', l.lanname::text, l.lanowner, 'pg_catalog.pg_language'::pg_catalog.regclass, l.oid,
      (SELECT f.pronamespace FROM pg_catalog.pg_proc f WHERE f.oid = l.lanplcallfoid) FROM pg_catalog.pg_language l
    WHERE l.lanname NOT IN ('internal', 'c', 'sql', 'plpgsql')
  UNION ALL SELECT 'LARGE OBJECT', m.oid::text, m.lomowner, 'pg_catalog.pg_largeobject_metadata'::pg_catalog.regclass, m.oid, NULL FROM pg_catalog.pg_largeobject_metadata m
)
SELECT pg_catalog.json_build_object(
  'ownerRoles', ARRAY(SELECT r.rolname FROM pg_catalog.pg_roles r, o WHERE pg_catalog.pg_has_role(o.oid, r.oid, 'MEMBER')),
  'roles', ARRAY(SELECT r.rolname FROM pg_catalog.pg_roles r),
  'availableExtensions', ARRAY(SELECT DISTINCT v.name FROM pg_catalog.pg_available_extension_versions v),
  'trustedExtensions', ARRAY(SELECT DISTINCT v.name FROM pg_catalog.pg_available_extension_versions v WHERE v.trusted OR NOT v.superuser),
  'undroppable', ARRAY(SELECT pg_catalog.json_build_object('kind', n.kind, 'name', n.name,
                        -- In a schema the reset drops: DROP SCHEMA ... CASCADE would take it along.
                        'inDroppedSchema', (SELECT s.nspname FROM pg_catalog.pg_namespace s
                                            WHERE s.oid = n.nsp AND s.nspname NOT IN ('pg_catalog', 'information_schema')))
    FROM notmine n, o
    WHERE (n.kind IN ('EVENT TRIGGER', 'LANGUAGE') OR NOT pg_catalog.pg_has_role(o.oid, n.owner, 'MEMBER'))
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = n.classid AND d.objid = n.objid AND d.deptype = 'e')
    ORDER BY n.kind, n.name));`;

/** What only a superuser may create, whoever owns it. */
const SUPERUSER_ONLY: Record<string, string> = {
  'EVENT TRIGGER': 'only a superuser may create event triggers',
  'PROCEDURAL LANGUAGE': 'only a superuser may create a procedural language',
  SUBSCRIPTION: 'only a superuser may create subscriptions',
  'FOREIGN DATA WRAPPER': 'only a superuser may create a foreign-data wrapper',
};

/** Target objects the restore can leave in place; schemas and large objects it must replace. */
const LEAVE_IN_PLACE = new Set(['EVENT TRIGGER', 'EXTENSION', 'PUBLICATION', 'FOREIGN DATA WRAPPER', 'LANGUAGE']);

/**
 * The pre-flight of a restore, before anything runs: what the owner's rights cannot do, in the
 * archive (from its TOC) and in the current target. Plain SQL has no TOC: its statements are
 * judged by the plain-SQL policy as they stream, so only the target is checked.
 */
export async function planRestore(request: PlanRequest): Promise<RestorePlan> {
  const facts = await queryJson<TargetFacts>(
    request.runner,
    request.tools.psql,
    request.catalog,
    targetFactsSql(request.owner),
  );
  const unrestorable: UnrestorableItem[] = facts.undroppable.map((item) => {
    const superuserOnly = item.kind === 'EVENT TRIGGER' || item.kind === 'LANGUAGE';
    const why = superuserOnly
      ? 'only a superuser may drop it'
      : `it belongs to a role "${request.owner}" is not a member of`;
    const stays = LEAVE_IN_PLACE.has(item.kind) && item.inDroppedSchema === null;
    const reason = item.inDroppedSchema
      ? `${why}, and it depends on schema "${item.inDroppedSchema}", which the restore drops and recreates: a superuser must move or drop it first`
      : `${why}${stays ? '; it stays in place' : ''}`;
    return { where: 'target', kind: item.kind, name: item.name, reason, skippable: stays };
  });
  const skip = new Set<number>();
  if (isArchive(request.source.format)) {
    const entries = await readTocEntries(request);
    const known = {
      ownerRoles: new Set(facts.ownerRoles),
      roles: new Set(facts.roles),
      trusted: new Set(facts.trustedExtensions),
      available: new Set(facts.availableExtensions),
      noOwner: request.noOwner,
    };
    for (const entry of entries) {
      const reason = archiveRefusal(entry, known);
      if (!reason) continue;
      unrestorable.push({ where: 'archive', ...reason, name: entryName(entry) });
      if (reason.skippable) skip.add(entry.dumpId);
    }
    addDependents(entries, skip);
  }
  return { unrestorable, skipDumpIds: [...skip].sort((a, b) => a - b) };
}

function archiveRefusal(
  entry: TocEntry,
  facts: {
    ownerRoles: Set<string>;
    roles: Set<string>;
    trusted: Set<string>;
    available: Set<string>;
    noOwner: boolean;
  },
): { kind: string; reason: string; skippable: boolean } | null {
  const superuserOnly = SUPERUSER_ONLY[entry.description];
  if (superuserOnly) return { kind: entry.description, reason: superuserOnly, skippable: true };
  if (entry.description === 'EXTENSION') {
    if (!facts.available.has(entry.name)) {
      return { kind: 'EXTENSION', reason: 'the extension is not installed on the target server', skippable: true };
    }
    if (!facts.trusted.has(entry.name)) {
      return {
        kind: 'EXTENSION',
        reason: 'the extension is not trusted: only a superuser may create it',
        skippable: true,
      };
    }
  }
  if (!facts.noOwner && entry.owner !== null && !facts.roles.has(entry.owner)) {
    return {
      kind: 'missing role',
      reason: `owned by role "${entry.owner}", which does not exist on the target server: create the role, or restore with no-owner`,
      skippable: false,
    };
  }
  if (!facts.noOwner && entry.owner !== null && !facts.ownerRoles.has(entry.owner)) {
    return {
      kind: 'owner',
      reason: `owned by "${entry.owner}", a role the database's owner is not a member of: restore with no-owner, or grant that role to the owner`,
      skippable: false,
    };
  }
  return null;
}

/** An entry left out takes everything that depends on it (its comment, ACL, members...). */
function addDependents(entries: readonly TocEntry[], skip: Set<number>): void {
  let grew = skip.size > 0;
  while (grew) {
    grew = false;
    for (const entry of entries) {
      if (!skip.has(entry.dumpId) && entry.dependencies.some((id) => skip.has(id))) {
        skip.add(entry.dumpId);
        grew = true;
      }
    }
  }
}

function entryName(entry: TocEntry): string {
  return entry.schema ? `${entry.schema}.${entry.name}` : entry.name;
}

/**
 * The lists pg_restore -L takes (it ignores lines commented with ";"): the schemas and their ACLs,
 * and everything else, less the entries left out.
 */
export function restoreLists(listing: string, skipDumpIds: readonly number[]): { schemas: string; rest: string } {
  const skip = new Set(skipDumpIds);
  const lines = listing.split('\n');
  const isSchema = (line: string) => /^\d+; \d+ \d+ (SCHEMA|ACL - SCHEMA) /.test(line);
  const keep = (wanted: (line: string) => boolean) =>
    lines
      .map((line) => {
        const id = /^(\d+);/.exec(line)?.[1];
        return id === undefined || (wanted(line) && !skip.has(Number(id))) ? line : `;${line}`;
      })
      .join('\n');
  return { schemas: keep(isSchema), rest: keep((line) => !isSchema(line)) };
}
