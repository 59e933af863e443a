import { Type, type Static } from 'typebox';
import { MAX_FROM_NAME_LENGTH, MAX_SUBJECT_LENGTH } from '../../channels/email/render.js';
import { ChannelIdSchema, ConditionSchema, DateTimeSchema, FreeObjectSchema } from './common.js';

/** Size limits of a send request. Each one is checked and named in the error it causes. */
export const SEND_LIMITS = {
  bodyLength: 10_000,
  titleLength: 250,
  rules: 10,
  ruleSetNameLength: 64,
  profileIdLength: 256,
  addressLength: 256,
  toFields: 20,
  metadataFields: 50,
  /** UTF-8 bytes of `metadata` serialised as JSON. */
  metadataBytes: 4096,
  conversationIdLength: 256,
  smsBodyLength: 10_000,
  clientRefLength: 64,
  emailSubjectLength: MAX_SUBJECT_LENGTH,
  emailTextLength: 100_000,
  emailHtmlLength: 500_000,
  fromNameLength: MAX_FROM_NAME_LENGTH,
  nativeMessageFields: 50,
  durationLength: 32,
} as const;

/** Largest number of messages in one batch request. */
export const MAX_BATCH_SIZE = 5000;

export const RuleObjectSchema = Type.Object(
  {
    channel: ChannelIdSchema,
    fallbackAfter: Type.Optional(
      Type.String({
        maxLength: SEND_LIMITS.durationLength,
        description: 'ISO 8601 duration after which routing moves on when the condition is not met, such as PT10M',
      }),
    ),
    fallbackUnless: Type.Optional(ConditionSchema),
  },
  { additionalProperties: false, title: 'rule object such as {"channel": "sms", "fallbackAfter": "PT10M"}' },
);

export const RuleSchema = Type.Union([ChannelIdSchema, RuleObjectSchema]);

/** A fallback route: the channels to try, in order. */
export const RulesSchema = Type.Array(RuleSchema, { minItems: 1, maxItems: SEND_LIMITS.rules });

/** The name of a stored rule set. `.` and `..` are excluded because URL clients resolve them as path segments. */
export const RuleSetNameSchema = Type.String({
  pattern: `^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,${SEND_LIMITS.ruleSetNameLength}}$`,
  description: `1 to ${SEND_LIMITS.ruleSetNameLength} letters, digits, dots, underscores or hyphens, other than . and ..`,
});

export const ToSchema = Type.Object(
  {
    profileId: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.profileIdLength })),
    phoneNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    fbMessengerId: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.addressLength })),
    appUserId: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.addressLength })),
  },
  {
    additionalProperties: Type.String({ maxLength: SEND_LIMITS.addressLength }),
    maxProperties: SEND_LIMITS.toFields,
    propertyNames: {
      pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
      description: 'a letter followed by up to 63 letters, digits or underscores',
    },
    description:
      'Every address the caller has for the person: phoneNumber (international, with or without +), email, fbMessengerId, appUserId, and other string fields. ' +
      'With a profileId the addresses are stored on that profile, and addresses stored earlier fill in those the request omits.',
  },
);

/** A numeric sender (up to 15 digits, optional `+`) or an alphanumeric sender of up to 11 characters. */
export const SmsSenderSchema = Type.String({
  pattern: '^(?:\\+?[0-9]{1,15}|[A-Za-z0-9][A-Za-z0-9 ._&-]{0,10})$',
  description: 'a number of up to 15 digits with an optional +, or up to 11 letters, digits, spaces or . _ & -',
});

export const SmsCustomBodySchema = Type.Object(
  {
    from: Type.Optional(SmsSenderSchema),
    body: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.smsBodyLength })),
    deliverAfter: Type.Optional(DateTimeSchema),
    clientRef: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.clientRefLength })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const EmailCustomBodySchema = Type.Object(
  {
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.emailSubjectLength })),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.emailTextLength })),
    html: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.emailHtmlLength })),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** The provider's own message object (Cloud API or Send API shape), passed through. */
export const NativeMessageSchema = Type.Record(Type.String(), Type.Unknown(), {
  minProperties: 1,
  maxProperties: SEND_LIMITS.nativeMessageFields,
});

/** What the app feed shows in place of title and body, and data the app receives with it. */
export const AppCustomBodySchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.titleLength })),
    body: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.bodyLength })),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { maxProperties: SEND_LIMITS.metadataFields })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const CustomBodySchema = Type.Object(
  {
    sms: Type.Optional(SmsCustomBodySchema),
    email: Type.Optional(EmailCustomBodySchema),
    whatsApp: Type.Optional(NativeMessageSchema),
    fbMessenger: Type.Optional(NativeMessageSchema),
    appMessaging: Type.Optional(AppCustomBodySchema),
  },
  {
    additionalProperties: false,
    description:
      'Content for one channel in place of body and title: for whatsApp and fbMessenger the provider\'s own message object, such as a WhatsApp template.',
  },
);

export const MESSENGER_MESSAGING_TYPES = ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'] as const;
export const MESSENGER_MESSAGE_TAGS = [
  'CONFIRMED_EVENT_UPDATE',
  'POST_PURCHASE_UPDATE',
  'ACCOUNT_UPDATE',
  'HUMAN_AGENT',
] as const;

export const ChannelOptionsSchema = Type.Object(
  {
    sms: Type.Optional(
      Type.Object(
        { from: Type.Optional(SmsSenderSchema), allowUnicode: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
    ),
    fbMessenger: Type.Optional(
      Type.Object(
        {
          messagingType: Type.Optional(Type.Enum([...MESSENGER_MESSAGING_TYPES])),
          messageTag: Type.Optional(Type.Enum([...MESSENGER_MESSAGE_TAGS])),
        },
        { additionalProperties: false },
      ),
    ),
    whatsApp: Type.Optional(
      Type.Object({ enableUrlPreview: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    ),
    email: Type.Optional(
      Type.Object(
        { fromName: Type.Optional(Type.String({ minLength: 1, maxLength: SEND_LIMITS.fromNameLength })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'Switches for one channel; a channel cannot have both options and a custom body.' },
);

/** Examples of send requests, for the OpenAPI document. Each one is accepted by a server with the sandbox on. */
const SEND_REQUEST_EXAMPLES = [
  {
    body: 'Your code is 4417',
    to: { profileId: 'p1', phoneNumber: '+12025550101' },
    rules: ['appMessaging', 'fbMessenger', 'sms'],
  },
  {
    body: 'Your parcel arrives today between 10:00 and 12:00',
    title: 'Delivery update',
    to: { profileId: 'cust-1042', phoneNumber: '+12025550101', email: 'ada@example.com' },
    rules: [{ channel: 'appMessaging', fallbackAfter: 'PT10M', fallbackUnless: 'read' }, 'sms', 'email'],
    customBody: { sms: { from: 'ACME', body: 'Parcel today 10-12, {{profile.firstName}}' } },
    metadata: { orderId: '88121' },
  },
];

/** `POST /v1/messages`: one message to one person with its fallback route. */
export const SendRequestSchema = Type.Object(
  {
    body: Type.String({
      minLength: 1,
      maxLength: SEND_LIMITS.bodyLength,
      description: 'Text of the message, turned into each channel\'s native message. Merge fields such as {{profile.firstName}} are filled in when it is sent.',
    }),
    title: Type.Optional(
      Type.String({ minLength: 1, maxLength: SEND_LIMITS.titleLength, description: 'Title for channels that show one, such as the email subject.' }),
    ),
    to: ToSchema,
    rules: Type.Optional(
      Type.With(RulesSchema, {
        description:
          'The channels to try, in order: channel ids, or objects that set a step\'s fallbackUnless condition and fallbackAfter timeout. ' +
          'Give rules or ruleSet, not both; with neither, the space\'s default rule set is used.',
      }),
    ),
    ruleSet: Type.Optional(RuleSetNameSchema),
    customBody: Type.Optional(CustomBodySchema),
    channelOptions: Type.Optional(ChannelOptionsSchema),
    metadata: Type.Optional(
      Type.With(FreeObjectSchema(SEND_LIMITS.metadataFields), {
        description: `Fields of the caller, echoed on every status event and webhook of the message; at most ${SEND_LIMITS.metadataBytes} bytes as JSON.`,
      }),
    ),
    conversationId: Type.Optional(
      Type.String({ minLength: 1, maxLength: SEND_LIMITS.conversationIdLength, description: 'An id of the caller\'s conversation, stored with the message.' }),
    ),
    expiresOn: Type.Optional(Type.With(DateTimeSchema, { description: 'When to stop trying; an unfinished message then ends `expired`.' })),
    sendAt: Type.Optional(Type.With(DateTimeSchema, { description: 'When to start sending; earlier than expiresOn when both are given.' })),
    // NOTE: accepted for clients of the Omnichannel API, but opt-ins are not checked yet.
    requireOptIn: Type.Optional(Type.Boolean({ description: 'Accepted for compatibility; the server does not act on it yet.' })),
  },
  { additionalProperties: false, examples: SEND_REQUEST_EXAMPLES },
);

export type SendRequest = Static<typeof SendRequestSchema>;
export type Rule = Static<typeof RuleSchema>;

/**
 * `POST /v1/messages/batch`. Items are checked one by one against `SendRequestSchema` in the
 * handler, so that one bad item does not reject the others.
 */
export const BatchRequestSchema = Type.Object(
  { messages: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH_SIZE }) },
  { additionalProperties: false },
);

/** `POST /v1/messages/batch` as the OpenAPI document shows it: every item is a send request. */
export const BatchRequestDocumentSchema = Type.Object(
  {
    messages: Type.Array(SendRequestSchema, {
      minItems: 1,
      maxItems: MAX_BATCH_SIZE,
      description: 'Send requests, each checked on its own; errors point into this array, such as /messages/3/to.',
    }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        messages: [
          { body: 'Your order 88121 has shipped', to: { profileId: 'cust-1042', phoneNumber: '+12025550101' }, rules: ['sms'] },
          { body: 'Your order 88122 has shipped', title: 'Order shipped', to: { email: 'grace@example.com' }, rules: ['email'] },
        ],
      },
    ],
  },
);
