import { describe, expect, it } from 'vitest';
import { ENGINE_ERROR_CODES } from '@pgbs/engine';
import { ERROR_CODES, errorCodeEnumValue } from '../../src/errors/error-codes.js';

describe('error codes', () => {
  it('lists each code once, the engine’s among them', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(ERROR_CODES).toEqual(expect.arrayContaining([...ENGINE_ERROR_CODES]));
  });

  // The panel turns the GraphQL enum value back into the code by type alone (web/src/graphql/error-codes.ts).
  it.each(ERROR_CODES)('%s is domain/words-with-dashes, so its enum value maps back', (code) => {
    expect(code).toMatch(/^[a-z]+\/[a-z]+(-[a-z]+)*$/);
    const value = errorCodeEnumValue(code);
    expect(value).toMatch(/^[A-Z][A-Z_]*$/);
    expect(value.toLowerCase().replace('_', '/').replaceAll('_', '-')).toBe(code);
  });
});
