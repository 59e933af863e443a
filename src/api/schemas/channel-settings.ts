import { Type } from 'typebox';
import { ChannelIdSchema, DateTimeSchema } from './common.js';

const HostSchema = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[A-Za-z0-9._:-]+$',
  description: 'host name, IPv4 address or IPv6 address without brackets',
});
const PortSchema = Type.Integer({ minimum: 1, maximum: 65535 });
const SecretSchema = (description: string, maxLength = 512) => Type.String({ minLength: 1, maxLength, description: `${description}; stored encrypted, never returned` });
const GraphUrlSchema = Type.String({
  minLength: 1,
  maxLength: 2048,
  pattern: '^https?://[^/@\\s]+/?$',
  default: 'https://graph.facebook.com',
  description: 'origin of the Graph API, without a path; https://graph.facebook.com in production',
});

export const SmsSettingsSchema = Type.Object(
  {
    host: HostSchema,
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 2775, description: 'default 2775' })),
    systemId: Type.String({ minLength: 1, maxLength: 15, description: 'SMPP system_id of the bind' }),
    password: SecretSchema('SMPP password of the bind', 8),
    systemType: Type.Optional(Type.String({ maxLength: 12, description: 'SMPP system_type, when the SMSC asks for one' })),
    sourceAddr: Type.String({ minLength: 1, maxLength: 21, description: 'default sender: up to 11 letters and digits, a short code, or an international number' }),
  },
  { additionalProperties: false, examples: [{ host: 'smsc.example.net', port: 2775, systemId: 'acme', password: 'p4ssw0rd', sourceAddr: 'ACME' }] },
);

export const EmailSettingsSchema = Type.Object(
  {
    host: HostSchema,
    port: PortSchema,
    tls: Type.Enum(['implicit', 'starttls', 'none'], {
      description: 'implicit: TLS from the start (smtps, usually port 465); starttls: upgrade, required with a password off loopback; none: never upgrade',
    }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    password: Type.Optional(SecretSchema('SMTP password')),
    from: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s<>]+@[^@\\s<>]+$', description: 'sender address' }),
    fromName: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'sender display name' })),
  },
  {
    additionalProperties: false,
    examples: [{ host: 'smtp.example.net', port: 587, tls: 'starttls', username: 'acme', password: 'relay-password', from: 'orders@acme.example', fromName: 'ACME' }],
  },
);

export const WhatsAppSettingsSchema = Type.Object(
  {
    apiUrl: Type.Optional(GraphUrlSchema),
    phoneNumberId: Type.String({ minLength: 1, maxLength: 32, pattern: '^[0-9]+$', description: 'id of the business phone number that sends' }),
    accessToken: SecretSchema('system user access token with whatsapp_business_messaging', 2048),
    appSecret: SecretSchema('app secret that signs the webhooks (X-Hub-Signature-256)'),
    verifyToken: SecretSchema('token the webhook verification handshake must present'),
  },
  {
    additionalProperties: false,
    examples: [{ phoneNumberId: '106540352242922', accessToken: 'EAAG-example-token', appSecret: 'app-secret', verifyToken: 'verify-token' }],
  },
);

export const MessengerSettingsSchema = Type.Object(
  {
    apiUrl: Type.Optional(GraphUrlSchema),
    pageAccessToken: SecretSchema('page access token of the Page that sends', 2048),
    appSecret: SecretSchema('app secret that signs the webhooks (X-Hub-Signature-256)'),
    verifyToken: SecretSchema('token the webhook verification handshake must present'),
  },
  { additionalProperties: false, examples: [{ pageAccessToken: 'EAAG-example-page-token', appSecret: 'app-secret', verifyToken: 'verify-token' }] },
);

export const AppMessagingSettingsSchema = Type.Object(
  {
    vapidPublicKey: Type.String({ minLength: 1, maxLength: 128, description: 'VAPID public key, base64url (87 characters)' }),
    vapidPrivateKey: SecretSchema('VAPID private key, base64url (43 characters)', 128),
    vapidSubject: Type.String({ minLength: 1, maxLength: 256, description: 'contact for push services: mailto: or https: URL' }),
  },
  {
    additionalProperties: false,
    examples: [
      {
        vapidPublicKey: 'BO128RaBR49EHilH8F5It9PUU2CBd0VL5iOT5GHtPkYMebbc0GKgH99DjiipYOE1UXc6PGYyeGkdiCwGQMl8r7k',
        vapidPrivateKey: 'xgT2CSbyTMIk2sLroSSJJQWwd7GQWWvkxS2jqIS04zo',
        vapidSubject: 'mailto:ops@acme.example',
      },
    ],
  },
);

export const ChannelSettingsParamsSchema = Type.Object({ channel: ChannelIdSchema });

export const ChannelSettingsJsonSchema = Type.Object(
  {
    channel: ChannelIdSchema,
    settings: Type.Record(Type.String(), Type.Unknown(), { description: 'the stored settings with every credential masked as **** (long tokens keep their last four characters)' }),
    encryptionKeyId: Type.String({ description: 'id of the encryption key the credentials are stored under' }),
    webhookPath: Type.Optional(Type.String({ description: 'where the provider must send this space\'s webhooks, relative to the server URL' })),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
  },
  {
    examples: [
      {
        channel: 'sms',
        settings: { host: 'smsc.example.net', port: 2775, systemId: 'acme', password: '****', sourceAddr: 'ACME' },
        encryptionKeyId: 'k2026',
        createdAt: '2026-06-01T12:00:00.000Z',
        updatedAt: '2026-06-01T12:00:00.000Z',
      },
    ],
  },
);

export const ChannelSettingsListJsonSchema = Type.Object({ items: Type.Array(ChannelSettingsJsonSchema) });
