import { CodedError } from '@pgbs/engine';
import type { ErrorCode } from './error-codes.js';

/** A coded error the server raises (the engine raises EngineError): same shape, any code. */
export class ServiceError extends CodedError<ErrorCode> {
  override readonly name = 'ServiceError';
}

/** The engine's errors and the server's alike, optionally with one code. */
export function isCodedError(error: unknown, code?: ErrorCode): error is CodedError<ErrorCode> {
  return error instanceof CodedError && (code === undefined || error.code === code);
}
