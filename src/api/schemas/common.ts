import { Type } from 'typebox';
import { CHANNEL_IDS, CONDITIONS, MESSAGE_STATUSES } from '../../routing/types.js';

export const ChannelIdSchema = Type.Enum([...CHANNEL_IDS], { description: 'Channel id' });

export const ConditionSchema = Type.Enum([...CONDITIONS], {
  description: 'What a step waits for before it counts as successful',
});

export const MessageStatusSchema = Type.Enum([...MESSAGE_STATUSES]);

/** An RFC 3339 date-time, such as `2025-01-31T09:30:00Z`. */
export const DateTimeSchema = Type.String({ format: 'date-time', maxLength: 64 });

export const NullableDateTimeSchema = Type.Union([DateTimeSchema, Type.Null()]);

/** Builds the schema of a JSON object with any fields. Size limits are checked after schema validation. */
export function FreeObjectSchema(maxProperties: number) {
  return Type.Record(Type.String(), Type.Unknown(), { maxProperties });
}

export const FieldErrorSchema = Type.Object({
  pointer: Type.String({ description: 'JSON pointer into the request body, such as /to/phoneNumber' }),
  detail: Type.String(),
});

/**
 * The response of a route that responds with 204 and no body. Typed as `undefined`, so that
 * handlers call `reply.send()` without a payload.
 */
export const NoContentSchema = Type.Unsafe<undefined>({ type: 'null', description: 'Done; the response has no body.' });

/** RFC 9457 problem details, as every error response of the API is shaped. */
export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  requestId: Type.Optional(Type.String()),
  errors: Type.Optional(Type.Array(FieldErrorSchema)),
});
