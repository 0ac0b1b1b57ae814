import { ServiceError } from '../../errors/service-error.js';

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
/** A fingerprint's shape (keys are found by name, fingerprint or recipient: one must not pass for another). */
const FINGERPRINT = /^[0-9a-f]{16}$/;

/** "none" turns a target's encryption off (target set --encrypt-to none), so no key may be called that. */
export function validKeyName(name: string): string {
  if (!NAME.test(name) || name === 'none' || name.startsWith('age1') || FINGERPRINT.test(name)) {
    throw new ServiceError(
      'key/invalid-name',
      'A key name is 1 to 63 characters: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit; not "none", not starting with "age1", not 16 hexadecimal digits (a fingerprint).',
    );
  }
  return name;
}

/** The name a key gets when none is given: its fingerprint's start, unique in practice. */
export const defaultKeyName = (prefix: string, fingerprint: string) => `${prefix}-${fingerprint.slice(0, 8)}`;
