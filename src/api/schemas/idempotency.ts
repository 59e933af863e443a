import { Type } from 'typebox';

/** Longest `Idempotency-Key` accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * Headers of the routes that take an `Idempotency-Key`. Node.js gives header names in lower
 * case, so a bad key is reported under the pointer `/idempotency-key`.
 */
export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: `^[\\x20-\\x7E]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`,
      description: `an Idempotency-Key of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, such as a UUID`,
    }),
  ),
});

/** Problem responses of the routes that take an `Idempotency-Key`, for the OpenAPI document. */
export const IDEMPOTENCY_PROBLEMS = {
  409: 'A request with the same Idempotency-Key and body is still being processed. Retry after the Retry-After seconds.',
  422: 'The Idempotency-Key was used with a different body within the last 24 hours.',
} as const;
