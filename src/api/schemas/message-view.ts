import { Type, type Static } from 'typebox';
import { ATTEMPT_STATUSES, RECEIPT_STATES, STEP_STATUSES } from '../../routing/types.js';
import {
  ChannelIdSchema,
  ConditionSchema,
  DateTimeSchema,
  FieldErrorSchema,
  MessageStatusSchema,
  NullableDateTimeSchema,
} from './common.js';
import { SendRequestSchema } from './send-request.js';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableObject = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]);

export const ReceiptJsonSchema = Type.Object({
  state: Type.Enum([...RECEIPT_STATES]),
  errorCode: NullableString,
  providerMessageId: Type.String(),
  providerTimestamp: NullableDateTimeSchema,
  receivedAt: DateTimeSchema,
});

export const AttemptJsonSchema = Type.Object({
  number: Type.Integer(),
  status: Type.Enum([...ATTEMPT_STATUSES]),
  providerMessageId: NullableString,
  errorCode: NullableString,
  errorMessage: NullableString,
  startedAt: DateTimeSchema,
  updatedAt: DateTimeSchema,
  receipts: Type.Array(ReceiptJsonSchema),
});

export const StepJsonSchema = Type.Object({
  index: Type.Integer(),
  channel: ChannelIdSchema,
  fallbackUnless: ConditionSchema,
  fallbackAfter: Type.Union([Type.String({ description: 'ISO 8601 duration' }), Type.Null()]),
  status: Type.Enum([...STEP_STATUSES]),
  reason: NullableString,
  startedAt: NullableDateTimeSchema,
  endedAt: NullableDateTimeSchema,
  attempts: Type.Array(AttemptJsonSchema),
});

export const EventJsonSchema = Type.Object({
  seq: Type.Integer(),
  type: Type.String(),
  step: Type.Union([Type.Integer(), Type.Null()]),
  attempt: Type.Union([Type.Integer(), Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  createdAt: DateTimeSchema,
});

/** `GET /v1/messages/{id}`: a message with every step, attempt, receipt and event. */
export const MessageJsonSchema = Type.Object({
  messageId: Type.String(),
  profileId: NullableString,
  status: MessageStatusSchema,
  statusDetails: Type.String(),
  /** The channel of the step that met its condition. */
  channel: Type.Union([ChannelIdSchema, Type.Null()]),
  sentOn: DateTimeSchema,
  updatedAt: DateTimeSchema,
  completedAt: NullableDateTimeSchema,
  sendAt: NullableDateTimeSchema,
  expiresOn: NullableDateTimeSchema,
  metadata: NullableObject,
  /** The send request as it was accepted. */
  request: Type.Unknown(),
  steps: Type.Array(StepJsonSchema),
  events: Type.Array(EventJsonSchema),
});

export type MessageJson = Static<typeof MessageJsonSchema>;
export type StepJson = Static<typeof StepJsonSchema>;

export const MessagePageJsonSchema = Type.Object({
  items: Type.Array(MessageJsonSchema),
  nextCursor: NullableString,
});

/** `POST /v1/messages` (201): the stored message with the request echoed. */
export const SendResponseSchema = Type.Object({
  messageId: Type.String(),
  status: MessageStatusSchema,
  statusDetails: Type.String(),
  sentOn: DateTimeSchema,
  ...SendRequestSchema.properties,
});

/** `POST /v1/messages/batch` (202): the index of every item with its outcome. */
export const BatchResponseSchema = Type.Object({
  accepted: Type.Array(Type.Object({ index: Type.Integer(), messageId: Type.String() })),
  rejected: Type.Array(Type.Object({ index: Type.Integer(), errors: Type.Array(FieldErrorSchema) })),
});

export const MessageListQuerySchema = Type.Object(
  {
    profileId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    status: Type.Optional(MessageStatusSchema),
    since: Type.Optional(DateTimeSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const MessageIdParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
});
