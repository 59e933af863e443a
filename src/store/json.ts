/**
 * JSON columns are stored as text in every dialect, so rows read the same way everywhere.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** Parse a JSON column. The type is the caller's claim about what the column was written with. */
export function fromJson<T>(text: string): T {
  const value: unknown = JSON.parse(text);
  return value as T;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
