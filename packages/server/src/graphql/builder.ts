import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import { CodedError } from '@pgbs/engine';
import { ERROR_CODES, type ErrorCode, errorCodeEnumValue } from '../errors/error-codes.js';
import { ServiceError } from '../errors/service-error.js';
import type { SpooledFile } from '../storage/spooled-file.js';
import type { GraphQLContext } from './context.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    /** Sizes in bytes exceed GraphQL's 32-bit Int. */
    Bytes: { Input: number; Output: number };
    /** An upload (multipart request), already on disk; input only. */
    File: { Input: SpooledFile; Output: never };
  };
}>({
  plugins: [ErrorsPlugin],
  defaultFieldNullability: false,
  errors: { defaultTypes: [CodedError] },
});

builder.scalarType('DateTime', {
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new ServiceError('input/invalid', 'Not a date.');
    return date;
  },
});

builder.scalarType('Bytes', {
  description: 'A byte count (up to 2^53).',
  serialize: (value) => value,
  parseValue: (value) => Number(value),
});

const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description:
    'Every stable error code. CodedError.code and extensions.code carry it as text: RESTORE_UNSAFE_SQL is restore/unsafe-sql.',
  values: Object.fromEntries(ERROR_CODES.map((code) => [errorCodeEnumValue(code), { value: code }])),
});

/** Errors a user can act on: a stable code and a message for humans. */
builder.objectType(CodedError, {
  name: 'CodedError',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'The code as text (restore/unsafe-sql), as in extensions.code.' }),
    errorCode: t.field({
      type: ErrorCodeEnum,
      description: 'The same code as an enum value, for typed clients.',
      // Every CodedError is an EngineError or a ServiceError, whose codes are all in ERROR_CODES.
      resolve: (error) => error.code as ErrorCode,
    }),
    message: t.exposeString('message'),
  }),
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
