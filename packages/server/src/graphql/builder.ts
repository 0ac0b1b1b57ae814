import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import { CodedError } from '@pgbs/engine';
import { ServiceError } from '../errors/service-error.js';
import type { SpooledFile } from '../http/spooled-file.js';
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

/** Errors a user can act on: a stable code and a message for humans. */
builder.objectType(CodedError, {
  name: 'CodedError',
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
  }),
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
