import type { TLocalizedValidationError } from 'typebox/error';

/** One bad field of a request: where it is and what is wrong with it. */
export interface FieldError {
  /** JSON pointer (RFC 6901) into the request body, such as `/to/phoneNumber`. The empty pointer `''` is the whole body. */
  pointer: string;
  detail: string;
}

type JsonSchema = Record<string, unknown>;

/**
 * Turns raw TypeBox errors into one entry per bad field, with what is wrong and what is
 * allowed. Union failures are narrowed to the branch whose JSON type matches the value, so
 * a bad channel id reports the allowed ids instead of every branch's complaint.
 */
export function describeSchemaErrors(
  rootSchema: unknown,
  value: unknown,
  errors: readonly TLocalizedValidationError[],
): FieldError[] {
  const excluded = excludeUnmatchedBranches(rootSchema, value, errors);
  const result: FieldError[] = [];
  const seen = new Set<string>();

  const add = (pointer: string, detail: string): void => {
    if (seen.has(pointer)) return;
    seen.add(pointer);
    result.push({ pointer, detail });
  };

  for (const error of errors) {
    if (excluded.has(error)) continue;
    for (const entry of describeError(rootSchema, value, error)) add(entry.pointer, entry.detail);
  }
  return result;
}

/** Escapes one key for use as a JSON pointer segment (RFC 6901). */
export function escapePointerSegment(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function excludeUnmatchedBranches(
  rootSchema: unknown,
  value: unknown,
  errors: readonly TLocalizedValidationError[],
): Set<TLocalizedValidationError> {
  const excluded = new Set<TLocalizedValidationError>();
  // A schema path is shared by every item of an array, so an exclusion also names the value.
  const exclusions: Array<{ schemaPath: string; instancePath: string }> = [];
  const isExcluded = (error: TLocalizedValidationError): boolean =>
    exclusions.some(
      (exclusion) =>
        isSameOrBelow(error.schemaPath, exclusion.schemaPath) && isSameOrBelow(error.instancePath, exclusion.instancePath),
    );

  // Outer unions first, so an inner union inside a discarded branch is discarded with it.
  const unions = errors
    .filter((error) => error.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);

  for (const union of unions) {
    if (isExcluded(union)) continue;
    const branches = asArray(asObject(schemaAt(rootSchema, union.schemaPath))?.anyOf);
    const actual = jsonTypeOf(valueAt(value, union.instancePath));
    const matching = branches.flatMap((branch, index) => (schemaAcceptsType(branch, actual) ? [index] : []));

    if (matching.length === 1) {
      // Report what is wrong inside the one branch that fits the value's type.
      excluded.add(union);
      branches.forEach((_, index) => {
        if (index !== matching[0]) {
          exclusions.push({ schemaPath: `${union.schemaPath}/anyOf/${index}`, instancePath: union.instancePath });
        }
      });
    } else {
      // No branch or several fit: the union error itself lists the alternatives.
      exclusions.push({ schemaPath: `${union.schemaPath}/anyOf`, instancePath: union.instancePath });
    }
  }

  for (const error of errors) {
    if (isExcluded(error)) excluded.add(error);
  }
  return excluded;
}

function isSameOrBelow(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function describeError(rootSchema: unknown, value: unknown, error: TLocalizedValidationError): FieldError[] {
  const pointer = error.instancePath;
  const actual = valueAt(value, pointer);
  const schema = asObject(schemaAt(rootSchema, error.schemaPath));

  switch (error.keyword) {
    case 'required':
      return error.params.requiredProperties.map((name) => ({
        pointer: `${pointer}/${escapePointerSegment(name)}`,
        detail: 'is required',
      }));
    case 'additionalProperties': {
      if (schema?.additionalProperties !== false) return [];
      const allowed = Object.keys(asObject(schema.properties) ?? {});
      return error.params.additionalProperties.map((name) => ({
        pointer: `${pointer}/${escapePointerSegment(name)}`,
        detail: `is not a known field (allowed fields: ${allowed.join(', ')})`,
      }));
    }
    case 'boolean':
      // A property rejected by `additionalProperties: false`, which the `additionalProperties` case reports.
      return error.schemaPath.endsWith('/additionalProperties') ? [] : [{ pointer, detail: 'is not allowed' }];
    case 'propertyNames':
      // The offending names are reported one by one under the `pattern` keyword.
      return [];
    case 'pattern': {
      if (error.schemaPath.endsWith('/propertyNames')) {
        const rule = typeof schema?.description === 'string' ? `: use ${schema.description}` : '';
        return [{ pointer, detail: `has an invalid field name${rule}` }];
      }
      const rule = typeof schema?.description === 'string' ? `must be ${schema.description}` : `must match ${String(error.params.pattern)}`;
      return [{ pointer, detail: rule }];
    }
    case 'anyOf': {
      const branches = asArray(schema?.anyOf).map(describeSchemaType);
      return [{ pointer, detail: `must be ${joinAlternatives(branches)}${got(actual)}` }];
    }
    case 'type':
      return [{ pointer, detail: describeTypeError(pointer, error.params.type) }];
    case 'enum':
      return [{ pointer, detail: `must be one of ${error.params.allowedValues.map(String).join(', ')}${got(actual)}` }];
    case 'const':
      return [{ pointer, detail: `must be ${JSON.stringify(error.params.allowedValue)}` }];
    case 'minLength':
      return [{ pointer, detail: error.params.limit === 1 ? 'must not be empty' : `must have at least ${error.params.limit} characters` }];
    case 'maxLength':
      return [{ pointer, detail: `must have at most ${error.params.limit} characters${lengthOf(actual)}` }];
    case 'minItems':
      return [{ pointer, detail: `must contain at least ${error.params.limit} ${plural(error.params.limit, 'item')}` }];
    case 'maxItems':
      return [{ pointer, detail: `must contain at most ${error.params.limit} items${countOf(actual)}` }];
    case 'minProperties':
      return [{ pointer, detail: `must have at least ${error.params.limit} ${plural(error.params.limit, 'field')}` }];
    case 'maxProperties':
      return [{ pointer, detail: `must have at most ${error.params.limit} fields${fieldCountOf(actual)}` }];
    case 'minimum':
      return [{ pointer, detail: `must be at least ${error.params.limit}` }];
    case 'maximum':
      return [{ pointer, detail: `must be at most ${error.params.limit}` }];
    case 'format':
      return [{ pointer, detail: describeFormat(error.params.format) }];
    default:
      return [{ pointer, detail: error.message }];
  }
}

/** `a or b`, or `a, b, or c` when there are more than two or one of them lists values. */
function joinAlternatives(items: string[]): string {
  if (items.length <= 2 && !items.some((item) => item.includes(','))) return items.join(' or ');
  return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1] ?? ''}`;
}

function describeTypeError(pointer: string, expected: string | string[]): string {
  const names = joinAlternatives((Array.isArray(expected) ? expected : [expected]).map(articleFor));
  if (pointer === '') return `the request body must be ${names}`;
  return `must be ${names}`;
}

function describeFormat(format: string): string {
  if (format === 'date-time') return 'must be an RFC 3339 date-time with a time zone, such as 2025-01-31T09:30:00Z';
  return `must be a valid ${format}`;
}

function describeSchemaType(schema: unknown): string {
  const object = asObject(schema);
  if (!object) return 'a value';
  if (Array.isArray(object.enum)) return `one of ${object.enum.map(String).join(', ')}`;
  if ('const' in object) return JSON.stringify(object.const);
  if (typeof object.title === 'string') return `a ${object.title}`;
  if (typeof object.type === 'string') return articleFor(object.type);
  return 'a value';
}

function articleFor(type: string): string {
  switch (type) {
    case 'object':
      return 'a JSON object';
    case 'array':
      return 'an array';
    case 'integer':
      return 'an integer';
    case 'null':
      return 'null';
    default:
      return `a ${type}`;
  }
}

function got(actual: unknown): string {
  if (typeof actual === 'string' && actual.length <= 64) return ` (got ${JSON.stringify(actual)})`;
  if (typeof actual === 'number' || typeof actual === 'boolean' || actual === null) return ` (got ${String(actual)})`;
  return '';
}

function lengthOf(actual: unknown): string {
  return typeof actual === 'string' ? ` (got ${actual.length})` : '';
}

function countOf(actual: unknown): string {
  return Array.isArray(actual) ? ` (got ${actual.length})` : '';
}

function fieldCountOf(actual: unknown): string {
  const object = asObject(actual);
  return object ? ` (got ${Object.keys(object).length})` : '';
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  return 'object';
}

/** Tells whether a schema could accept a value of this JSON type, judged by `type`, `enum` and `const`. */
function schemaAcceptsType(schema: unknown, actual: JsonType): boolean {
  const object = asObject(schema);
  if (!object) return false;
  const matches = (candidate: unknown): boolean =>
    candidate === actual || (candidate === 'number' && actual === 'integer');

  if (typeof object.type === 'string') return matches(object.type);
  if (Array.isArray(object.type)) return object.type.some(matches);
  if (Array.isArray(object.enum)) return object.enum.some((item) => matches(jsonTypeOf(item)));
  if ('const' in object) return matches(jsonTypeOf(object.const));
  return false;
}

/** Returns the value a JSON pointer points at, or undefined when the path does not exist. */
export function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(current)) current = current[Number(key)];
    else if (asObject(current)) current = (current as JsonSchema)[key];
    else return undefined;
  }
  return current;
}

/** Returns the sub-schema a TypeBox `schemaPath` (`#/properties/rules/items/anyOf/1`) names. */
function schemaAt(root: unknown, schemaPath: string): unknown {
  const path = schemaPath.replace(/^#/, '');
  return valueAt(root, path);
}

function asObject(value: unknown): JsonSchema | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonSchema) : null;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
