import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { compileValidator } from '../../src/api/validator.js';

const Leaf = Type.Enum(['a', 'b']);
const Inner = Type.Union([Leaf, Type.Object({ leaf: Leaf }, { additionalProperties: false })]);
const Schema = Type.Object(
  {
    items: Type.Array(Type.Union([Type.Integer(), Type.Object({ inner: Inner }, { additionalProperties: false })])),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

const validate = compileValidator(Schema);

function errorsOf(value: unknown) {
  const result = validate(value);
  if (result.ok) throw new Error('expected validation to fail');
  return result.errors;
}

describe('compileValidator errors', () => {
  it('follows nested unions into the branch that fits each value', () => {
    const errors = errorsOf({ items: [1, { inner: 'c' }, { inner: { leaf: 'z' } }, 'text'] });
    expect(errors).toEqual([
      { pointer: '/items/1/inner', detail: 'must be one of a, b (got "c")' },
      { pointer: '/items/2/inner/leaf', detail: 'must be one of a, b (got "z")' },
      { pointer: '/items/3', detail: 'must be an integer or a JSON object (got "text")' },
    ]);
  });

  it('reports an unknown field inside a nested branch', () => {
    expect(errorsOf({ items: [{ inner: { leaf: 'a', extra: 1 } }] })).toEqual([
      { pointer: '/items/0/inner/extra', detail: 'is not a known field (allowed fields: leaf)' },
    ]);
  });

  it('escapes / and ~ in field names', () => {
    const errors = errorsOf({ items: [], 'a/b~c': 1 });
    expect(errors).toEqual([{ pointer: '/a~1b~0c', detail: 'is not a known field (allowed fields: items, labels)' }]);
  });

  it('points into records by key', () => {
    expect(errorsOf({ items: [], labels: { ok: 'yes', count: 3 } })).toEqual([{ pointer: '/labels/count', detail: 'must be a string' }]);
  });

  it('reports an ambiguous union once, with its alternatives', () => {
    const Either = Type.Union([
      Type.Object({ kind: Type.Literal('x'), inner: Inner }, { title: 'shape with inner' }),
      Type.Object({ kind: Type.Literal('y') }, { title: 'shape without inner' }),
    ]);
    const result = compileValidator(Type.Object({ either: Either }))({ either: { kind: 'x', inner: 'c' } });
    expect(result).toEqual({ ok: false, errors: [{ pointer: '/either', detail: 'must be a shape with inner or a shape without inner' }] });
  });

  it('returns the value when it is valid', () => {
    expect(validate({ items: [1, { inner: { leaf: 'b' } }] })).toEqual({ ok: true, value: { items: [1, { inner: { leaf: 'b' } }] } });
  });
});
