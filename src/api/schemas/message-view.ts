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

const DELIVERED_MESSAGE_EXAMPLE = {
  messageId: '0197a5e2-7c40-7bba-956b-e94020d21594',
  profileId: 'p1',
  status: 'delivered',
  statusDetails: 'Delivered on sms (step 3 of 3).',
  channel: 'sms',
  sentOn: '2025-06-01T12:00:00.000Z',
  updatedAt: '2025-06-01T12:00:00.399Z',
  completedAt: '2025-06-01T12:00:00.399Z',
  sendAt: null,
  expiresOn: null,
  metadata: null,
  request: { body: 'Your code is 4417', to: { profileId: 'p1', phoneNumber: '+12025550101' }, rules: ['appMessaging', 'fbMessenger', 'sms'] },
  steps: [
    {
      index: 0,
      channel: 'appMessaging',
      fallbackUnless: 'delivered',
      fallbackAfter: null,
      status: 'skipped',
      reason: 'no-address',
      startedAt: '2025-06-01T12:00:00.035Z',
      endedAt: '2025-06-01T12:00:00.046Z',
      attempts: [],
    },
    {
      index: 1,
      channel: 'fbMessenger',
      fallbackUnless: 'delivered',
      fallbackAfter: null,
      status: 'skipped',
      reason: 'no-address',
      startedAt: '2025-06-01T12:00:00.046Z',
      endedAt: '2025-06-01T12:00:00.049Z',
      attempts: [],
    },
    {
      index: 2,
      channel: 'sms',
      fallbackUnless: 'delivered',
      fallbackAfter: null,
      status: 'succeeded',
      reason: null,
      startedAt: '2025-06-01T12:00:00.049Z',
      endedAt: '2025-06-01T12:00:00.399Z',
      attempts: [
        {
          number: 1,
          status: 'delivered',
          providerMessageId: 'B389BB729',
          errorCode: null,
          errorMessage: null,
          startedAt: '2025-06-01T12:00:00.083Z',
          updatedAt: '2025-06-01T12:00:00.399Z',
          receipts: [
            {
              state: 'delivered',
              errorCode: null,
              providerMessageId: '48194369321',
              providerTimestamp: '2025-06-01T12:00:00.000Z',
              receivedAt: '2025-06-01T12:00:00.398Z',
            },
          ],
        },
      ],
    },
  ],
  events: [
    { seq: 1, type: 'message.started', step: null, attempt: null, data: { steps: 3, expiresAt: null }, createdAt: '2025-06-01T12:00:00.035Z' },
    {
      seq: 4,
      type: 'message.fallback',
      step: 1,
      attempt: null,
      data: { from: 0, to: 1, fromChannel: 'appMessaging', toChannel: 'fbMessenger', reason: 'no-address' },
      createdAt: '2025-06-01T12:00:00.046Z',
    },
    { seq: 9, type: 'attempt.accepted', step: 2, attempt: 1, data: { providerMessageId: 'B389BB729' }, createdAt: '2025-06-01T12:00:00.096Z' },
    { seq: 12, type: 'message.finished', step: 2, attempt: null, data: { status: 'delivered', succeededStep: 2 }, createdAt: '2025-06-01T12:00:00.399Z' },
  ],
};

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
}, { examples: [DELIVERED_MESSAGE_EXAMPLE] });

export type MessageJson = Static<typeof MessageJsonSchema>;
export type StepJson = Static<typeof StepJsonSchema>;

export const MessagePageJsonSchema = Type.Object({
  items: Type.Array(MessageJsonSchema),
  nextCursor: NullableString,
});

/** `POST /v1/messages` (201): the stored message with the request echoed. */
export const SendResponseSchema = Type.Object(
  {
    messageId: Type.String(),
    status: MessageStatusSchema,
    statusDetails: Type.String(),
    sentOn: DateTimeSchema,
    ...SendRequestSchema.properties,
  },
  {
    examples: [
      {
        messageId: '0197a5e2-7c40-7bba-956b-e94020d21594',
        status: 'processing',
        statusDetails: 'Accepted. Routing starts with step 1 (appMessaging).',
        sentOn: '2025-06-01T12:00:00.000Z',
        body: 'Your code is 4417',
        to: { profileId: 'p1', phoneNumber: '+12025550101' },
        rules: ['appMessaging', 'fbMessenger', 'sms'],
      },
    ],
  },
);

/** `POST /v1/messages/batch` (202): the index of every item with its outcome. */
export const BatchResponseSchema = Type.Object(
  {
    accepted: Type.Array(Type.Object({ index: Type.Integer(), messageId: Type.String() })),
    rejected: Type.Array(Type.Object({ index: Type.Integer(), errors: Type.Array(FieldErrorSchema) })),
  },
  {
    examples: [
      {
        accepted: [{ index: 0, messageId: '0197a5e2-7c41-791b-8308-9a9d20d0c61b' }],
        rejected: [{ index: 1, errors: [{ pointer: '/messages/1/to', detail: 'has no profileId and no address for any channel in rules (sms needs phoneNumber)' }] }],
      },
    ],
  },
);

export const MessageListQuerySchema = Type.Object(
  {
    profileId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Only messages to this profile.' })),
    status: Type.Optional(Type.With(MessageStatusSchema, { description: 'Only messages with this status.' })),
    since: Type.Optional(Type.With(DateTimeSchema, { description: 'Only messages created at or after this time.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Messages per page.' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The nextCursor of the previous page.' })),
  },
  { additionalProperties: false },
);

export const MessageIdParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'The messageId returned by the send.' }),
});
