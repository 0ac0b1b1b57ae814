export { buildHostileCorpus } from './corpus.js';
export type { BuildOptions, HostileCorpus, HostileVariant } from './corpus.js';
export { SERVER_FILE, snake } from './payloads.js';
export { plantsInTarget } from './plants.js';
export type { TargetPlants } from './plants.js';
export {
  RESTORE_ROLE_PREFIX,
  assertNothingEscaped,
  createSentinel,
  escapeSnapshot,
  escapesBetween,
} from './snapshot.js';
export type { EscapeSnapshot, RoleState } from './snapshot.js';
