import type { ChannelId } from '../routing/types.js';
import type { SecretBox } from '../secret-box.js';

/** SMPP connection of a space's own SMSC. */
export interface SmsSettings {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** Default sender of the space's SMS. */
  sourceAddr: string;
}

/** SMTP submission to a space's own relay. */
export interface EmailSettings {
  host: string;
  port: number;
  /**
   * `implicit`: TLS from the first byte (smtps). `starttls`: upgrade when the relay offers it,
   * and require the upgrade when a password is set. A relay on a loopback address is never
   * upgraded, because the traffic stays on the machine. `none`: never upgrade, for relays
   * inside a private network.
   */
  tls: 'implicit' | 'starttls' | 'none';
  username?: string;
  password?: string;
  from: string;
  fromName?: string;
}

/** A WhatsApp Business phone number on the Cloud API. */
export interface WhatsAppSettings {
  apiUrl: string;
  phoneNumberId: string;
  accessToken: string;
  /** Verifies `X-Hub-Signature-256` on the space's webhook. */
  appSecret: string;
  /** Token that Meta's verification handshake on the space's webhook must present. */
  verifyToken: string;
}

/** A Facebook Page that sends with the Messenger Send API. */
export interface MessengerSettings {
  apiUrl: string;
  pageAccessToken: string;
  appSecret: string;
  verifyToken: string;
}

/** The VAPID key pair the space's app registers its push subscriptions with. */
export interface AppMessagingSettings {
  vapidPublicKey: string;
  vapidPrivateKey: string;
  vapidSubject: string;
}

export interface ChannelSettingsById {
  sms: SmsSettings;
  email: EmailSettings;
  whatsApp: WhatsAppSettings;
  fbMessenger: MessengerSettings;
  appMessaging: AppMessagingSettings;
}

export type AnyChannelSettings = ChannelSettingsById[ChannelId];

/** Fields that hold credentials: stored encrypted and never returned in full. */
export const SECRET_FIELDS: { readonly [C in ChannelId]: readonly (keyof ChannelSettingsById[C] & string)[] } = {
  sms: ['password'],
  email: ['password'],
  whatsApp: ['accessToken', 'appSecret', 'verifyToken'],
  fbMessenger: ['pageAccessToken', 'appSecret', 'verifyToken'],
  appMessaging: ['vapidPrivateKey'],
};

/** Shortest secret whose last four characters are shown; shorter ones are masked whole. */
const MIN_HINT_LENGTH = 24;

/** `****` and, for long values such as access tokens, their last four characters. */
export function maskSecret(value: string): string {
  return value.length >= MIN_HINT_LENGTH ? `****${value.slice(-4)}` : '****';
}

/** The settings with every secret field masked, safe to return and to log. */
export function maskSettings(channel: ChannelId, settings: Record<string, unknown>): Record<string, unknown> {
  const masked: Record<string, unknown> = { ...settings };
  for (const field of SECRET_FIELDS[channel] as readonly string[]) {
    const value = masked[field];
    if (typeof value === 'string') masked[field] = maskSecret(value);
  }
  return masked;
}

/** Associated data that binds sealed settings to their space and channel, so a copied value does not decrypt. */
export function channelSettingsContext(spaceId: string, channel: ChannelId): string {
  return `channel-settings:${spaceId}:${channel}`;
}

/** Seals settings as JSON, bound to their space and channel. */
export function sealChannelSettings(box: SecretBox, spaceId: string, channel: ChannelId, settings: AnyChannelSettings): string {
  return box.seal(JSON.stringify(settings), channelSettingsContext(spaceId, channel));
}

/** Opens settings sealed by `sealChannelSettings`; throws `SecretBoxError` when they do not decrypt. */
export function openChannelSettings<C extends ChannelId>(box: SecretBox, stored: { spaceId: string; channel: C; sealed: string }): ChannelSettingsById[C] {
  return JSON.parse(box.open(stored.sealed, channelSettingsContext(stored.spaceId, stored.channel))) as ChannelSettingsById[C];
}
