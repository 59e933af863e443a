import { Type, type Static } from 'typebox';
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../../webhooks/types.js';
import { DateTimeSchema } from './common.js';

/** Maximum number of endpoints per space. It bounds the unpaged `GET /v1/webhooks` response. */
export const MAX_WEBHOOK_ENDPOINTS = 100;
export const MAX_WEBHOOK_URL_LENGTH = 2048;

export const WebhookEventTypeSchema = Type.Enum([...WEBHOOK_EVENT_TYPES], { description: 'Webhook event type' });

/** `POST /v1/webhooks`. */
export const WebhookCreateSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: MAX_WEBHOOK_URL_LENGTH,
      description: 'http or https URL that receives a signed POST per event; without user name or password',
    }),
    events: Type.Array(WebhookEventTypeSchema, { minItems: 1, maxItems: 20, description: 'the event types to receive' }),
    description: Type.Optional(Type.String({ maxLength: 500, description: 'a note for people, such as what the receiver does' })),
  },
  {
    additionalProperties: false,
    examples: [{ url: 'https://shop.example.com/hooks/cascade', events: ['message.delivered', 'message.failed'], description: 'order service' }],
  },
);

export type WebhookCreate = Static<typeof WebhookCreateSchema>;

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);

export const WebhookEndpointJsonSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(WebhookEventTypeSchema),
  description: NullableString,
  createdAt: DateTimeSchema,
});

/** The create response: the endpoint and its signing secret, which no later response contains. */
export const WebhookCreatedJsonSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String(),
    events: Type.Array(WebhookEventTypeSchema),
    description: NullableString,
    createdAt: DateTimeSchema,
    secret: Type.String({ description: 'whsec_ and a base64 key; verifies webhook-signature. Shown once.' }),
  },
  {
    examples: [
      {
        id: '0197a5e2-7c44-7053-a82c-c791c28f5ba7',
        url: 'https://shop.example.com/hooks/cascade',
        events: ['message.delivered', 'message.failed'],
        description: 'order service',
        createdAt: '2025-06-01T12:00:00.000Z',
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      },
    ],
  },
);

export const WebhookEndpointListJsonSchema = Type.Object({ items: Type.Array(WebhookEndpointJsonSchema) });

export const WebhookParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'The id of the webhook endpoint.' }) });

export const DeadLetterParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  deliveryId: Type.String({ minLength: 1, maxLength: 64 }),
});

export const DeadLetterQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Dead letters per page.' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The nextCursor of the previous page.' })),
  },
  { additionalProperties: false },
);

/** A delivery of one event to one endpoint. */
export const WebhookDeliveryJsonSchema = Type.Object({
  id: Type.String({ description: 'the webhook-id header of every try' }),
  type: WebhookEventTypeSchema,
  status: Type.Enum([...DELIVERY_STATUSES]),
  messageId: NullableString,
  sequence: NullableInteger,
  attempts: Type.Integer({ description: 'tries since the delivery was created or last replayed' }),
  lastStatus: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last try; null when no response came' }),
  lastError: NullableString,
  createdAt: DateTimeSchema,
  updatedAt: DateTimeSchema,
  nextAttemptAt: Type.Union([DateTimeSchema, Type.Null()], { description: 'when a pending delivery is tried next' }),
  payload: Type.Unknown({ description: 'the JSON body sent' }),
});

export const DeadLetterPageJsonSchema = Type.Object({
  items: Type.Array(WebhookDeliveryJsonSchema),
  nextCursor: NullableString,
});
