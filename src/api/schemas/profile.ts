import { Type, type Static } from 'typebox';
import { ChannelIdSchema, DateTimeSchema } from './common.js';
import { SEND_LIMITS } from './send-request.js';

export const PROFILE_LIMITS = {
  propertyFields: 100,
  /** UTF-8 bytes of `properties` serialised as JSON. */
  propertiesBytes: 16_384,
  timeZoneLength: 64,
} as const;

const ADDRESS_NAME = {
  pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
  description: 'a letter followed by up to 63 letters, digits or underscores',
};

function addressesSchema(nullable: boolean) {
  const value = (schema: ReturnType<typeof Type.String>) => (nullable ? Type.Union([schema, Type.Null()]) : schema);
  return Type.Object(
    {
      phoneNumber: Type.Optional(value(Type.String({ minLength: 1, maxLength: 32 }))),
      email: Type.Optional(value(Type.String({ minLength: 1, maxLength: 254 }))),
      fbMessengerId: Type.Optional(value(Type.String({ minLength: 1, maxLength: SEND_LIMITS.addressLength }))),
      appUserId: Type.Optional(value(Type.String({ minLength: 1, maxLength: SEND_LIMITS.addressLength }))),
    },
    {
      additionalProperties: value(Type.String({ maxLength: SEND_LIMITS.addressLength })),
      maxProperties: SEND_LIMITS.toFields,
      propertyNames: ADDRESS_NAME,
      description: nullable
        ? 'Addresses to add or replace, normalised as those of a send request; null removes an address.'
        : 'Addresses of the person, normalised as those of a send request.',
    },
  );
}

const PropertiesSchema = Type.Record(Type.String(), Type.Unknown(), {
  maxProperties: PROFILE_LIMITS.propertyFields,
  description: `Fields about the person, for merge fields such as {{profile.firstName}}; at most ${PROFILE_LIMITS.propertiesBytes} bytes as JSON.`,
});
const OptOutsSchema = Type.Array(ChannelIdSchema, {
  maxItems: 20,
  description: 'Channels the person opted out of. Sends skip them with reason opted-out; a message whose steps were all skipped for opt-outs ends filtered.',
});
const TimeZoneSchema = Type.String({ minLength: 1, maxLength: PROFILE_LIMITS.timeZoneLength, description: 'IANA time zone, such as Europe/Berlin' });

/** `PUT /v1/profiles/{profileId}`: the whole profile; absent fields become empty. */
export const ProfilePutSchema = Type.Object(
  {
    addresses: Type.Optional(addressesSchema(false)),
    properties: Type.Optional(PropertiesSchema),
    optOuts: Type.Optional(OptOutsSchema),
    timeZone: Type.Optional(Type.Union([TimeZoneSchema, Type.Null()])),
  },
  {
    additionalProperties: false,
    examples: [
      {
        addresses: { phoneNumber: '+12025550101', email: 'ada@example.com' },
        properties: { firstName: 'Ada', tier: 'gold' },
        optOuts: ['whatsApp'],
        timeZone: 'Europe/Berlin',
      },
    ],
  },
);

/**
 * `PATCH /v1/profiles/{profileId}`: JSON Merge Patch (RFC 7396). Absent fields stay as they
 * are, `null` removes an address, a property or the time zone, and `optOuts` replaces the list.
 */
export const ProfilePatchSchema = Type.Object(
  {
    addresses: Type.Optional(addressesSchema(true)),
    properties: Type.Optional(PropertiesSchema),
    optOuts: Type.Optional(Type.Union([OptOutsSchema, Type.Null()])),
    timeZone: Type.Optional(Type.Union([TimeZoneSchema, Type.Null()])),
  },
  { additionalProperties: false, examples: [{ addresses: { email: null, fbMessengerId: 'psid-delivered' }, properties: { tier: 'platinum' } }] },
);

export type ProfilePut = Static<typeof ProfilePutSchema>;
export type ProfilePatch = Static<typeof ProfilePatchSchema>;

export const ProfileParamsSchema = Type.Object({
  profileId: Type.String({ minLength: 1, maxLength: SEND_LIMITS.profileIdLength, description: 'The caller\'s id of the person.', examples: ['cust-1042'] }),
});

export const ProfileJsonSchema = Type.Object(
  {
    profileId: Type.String(),
    addresses: Type.Record(Type.String(), Type.String()),
    properties: Type.Record(Type.String(), Type.Unknown()),
    optOuts: Type.Array(ChannelIdSchema),
    timeZone: Type.Union([Type.String(), Type.Null()]),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
  },
  {
    examples: [
      {
        profileId: 'cust-1042',
        addresses: { phoneNumber: '+12025550101', email: 'ada@example.com' },
        properties: { firstName: 'Ada', tier: 'gold' },
        optOuts: ['whatsApp'],
        timeZone: 'Europe/Berlin',
        createdAt: '2025-06-01T12:00:00.000Z',
        updatedAt: '2025-06-01T12:00:00.000Z',
      },
    ],
  },
);

export type ProfileJson = Static<typeof ProfileJsonSchema>;
