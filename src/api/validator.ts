import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { Settings } from 'typebox/system';
import { describeSchemaErrors, type FieldError } from './schema-errors.js';

/**
 * Raw errors gathered per validation. TypeBox stops at 8 by default, and one bad union value
 * alone yields about five raw errors, so the default would hide most bad fields of a request.
 * The cap still bounds the work an invalid request can cause.
 */
const MAX_RAW_ERRORS = 200;

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** A compiled check of one schema that reports every bad field. */
export type SchemaValidator<T> = (value: unknown) => ValidationResult<T>;

export function compileValidator<T extends TSchema>(schema: T): SchemaValidator<Static<T>> {
  const validator = Compile(schema);
  return (value) => {
    if (validator.Check(value)) return { ok: true, value: value as Static<T> };
    return { ok: false, errors: describeSchemaErrors(schema, value, collectErrors(() => validator.Errors(value))) };
  };
}

/**
 * Fastify validator compiler for TypeBox schemas. Bodies are checked as sent, while query
 * strings, path parameters and headers are converted first (`"20"` becomes `20` for an
 * integer). Errors come back already described, one per field, with the pointer in
 * `instancePath`.
 */
export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema);
  return (input: unknown) => {
    const value = httpPart === 'body' ? input : validator.Convert(input);
    if (validator.Check(value)) return { value };

    const fieldErrors = describeSchemaErrors(schema, value, collectErrors(() => validator.Errors(value)));
    const error: FastifySchemaValidationError[] = fieldErrors.map((field) => ({
      keyword: 'schema',
      instancePath: field.pointer,
      schemaPath: '',
      params: {},
      message: field.detail,
    }));
    return { error };
  };
};

/** Runs `Errors` with a larger error cap. Safe because validation is synchronous. */
function collectErrors(run: () => TLocalizedValidationError[]): TLocalizedValidationError[] {
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: MAX_RAW_ERRORS });
  try {
    return run();
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}
