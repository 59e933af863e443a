import type { Logger } from 'pino';
import { EmailChannel } from './email/index.js';
import { MessengerChannel } from './messenger/index.js';
import type { ChannelSettingsById, EmailSettings } from './settings.js';
import { SmsChannel } from './sms/index.js';
import type { Channel } from './types.js';
import { WhatsAppChannel } from './whatsapp/index.js';

export interface ChannelBuildContext {
  /** ISO 3166 region for phone numbers in national format; null rejects them. */
  defaultRegion: string | null;
  /** Graph API version of WhatsApp and Messenger requests. */
  graphApiVersion: string;
  logger: Logger;
}

/** Builds the `smtp://` URL `createSmtpTransport` reads, with user name and password percent-encoded. */
export function smtpUrlOf(settings: EmailSettings): string {
  const scheme = settings.tls === 'implicit' ? 'smtps' : 'smtp';
  const user = settings.username === undefined ? '' : encodeURIComponent(settings.username);
  const password = settings.password === undefined ? '' : `:${encodeURIComponent(settings.password)}`;
  const credentials = user === '' && password === '' ? '' : `${user}${password}@`;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const query = settings.tls === 'none' ? '?ignoreTLS=true&requireTLS=false'  : '';
  return `${scheme}://${credentials}${host}:${settings.port}${query}`;
}

/** Builds a stopped channel that sends with one space's own provider settings. */
export function channelFromSettings<C extends keyof Omit<ChannelSettingsById, 'appMessaging'>>(
  channel: C,
  settings: ChannelSettingsById[C],
  context: ChannelBuildContext,
): Channel {
  const logger = context.logger;
  switch (channel) {
    case 'sms': {
      const sms = settings as ChannelSettingsById['sms'];
      return new SmsChannel({
        client: { host: sms.host, port: sms.port, systemId: sms.systemId, password: sms.password, ...(sms.systemType ? { systemType: sms.systemType } : {}) },
        sourceAddr: sms.sourceAddr,
        defaultRegion: context.defaultRegion,
        logger,
      });
    }
    case 'email': {
      const email = settings as ChannelSettingsById['email'];
      return new EmailChannel({ url: smtpUrlOf(email), from: email.from, ...(email.fromName ? { fromName: email.fromName } : {}), logger });
    }
    case 'whatsApp': {
      const whatsApp = settings as ChannelSettingsById['whatsApp'];
      return new WhatsAppChannel({
        apiUrl: whatsApp.apiUrl,
        apiVersion: context.graphApiVersion,
        phoneNumberId: whatsApp.phoneNumberId,
        token: whatsApp.accessToken,
        logger,
      });
    }
    case 'fbMessenger': {
      const messenger = settings as ChannelSettingsById['fbMessenger'];
      return new MessengerChannel({ apiUrl: messenger.apiUrl, apiVersion: context.graphApiVersion, pageToken: messenger.pageAccessToken, logger });
    }
    default: {
      const unknown: never = channel;
      throw new Error(`no provider settings exist for channel ${String(unknown)}`);
    }
  }
}
