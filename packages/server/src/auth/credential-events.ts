import { EventEmitter } from 'node:events';
import type { Sql } from 'postgres';
import { notifyChannel } from '../db/notify-channel.js';
import type { Logger } from '../logger.js';

/** A credential that stopped being valid: one session (by its hash), one API token, or every credential of a user. */
export interface EndedCredential {
  kind: 'session' | 'token' | 'user';
  id: string;
}

/** "Credential ended" (logout, revocation, user removal), heard by every process's open connections. */
export interface CredentialEvents {
  ended(credential: EndedCredential): void;
  subscribe(listener: (credential: EndedCredential) => void): () => void;
}

/** In this process, and through LISTEN/NOTIFY in every other one (a user removed by the CLI, a logout on another instance). */
export async function createSharedCredentialEvents(deps: { sql: Sql; logger: Logger }): Promise<CredentialEvents> {
  const emitter = new EventEmitter();
  const send = await notifyChannel<EndedCredential>(deps, 'pgbs_credential_ended', (credential) => {
    emitter.emit('ended', credential);
  });
  return {
    ended(credential) {
      emitter.emit('ended', credential);
      send(credential);
    },
    subscribe(listener) {
      emitter.on('ended', listener);
      return () => emitter.off('ended', listener);
    },
  };
}
