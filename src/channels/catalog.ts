import type { ChannelId, Condition } from '../routing/types.js';

export interface ChannelTraits {
  /** The address key in `to` and on profiles. */
  addressKey: 'phoneNumber' | 'email' | 'fbMessengerId' | 'appUserId';
  defaultCondition: Condition;
  /** Conditions the channel can report; a stricter one is a validation error. */
  supportedConditions: readonly Condition[];
}

/**
 * Static facts per channel, known without a provider connection. The API validates requests
 * against them; channel implementations must agree with them.
 */
export const CHANNEL_TRAITS: Record<ChannelId, ChannelTraits> = {
  sms: { addressKey: 'phoneNumber', defaultCondition: 'delivered', supportedConditions: ['accepted', 'delivered'] },
  whatsApp: { addressKey: 'phoneNumber', defaultCondition: 'delivered', supportedConditions: ['accepted', 'delivered', 'read'] },
  fbMessenger: { addressKey: 'fbMessengerId', defaultCondition: 'delivered', supportedConditions: ['accepted', 'delivered', 'read'] },
  // Acceptance by the relay is all SMTP reports until bounces are parsed.
  email: { addressKey: 'email', defaultCondition: 'accepted', supportedConditions: ['accepted'] },
  appMessaging: { addressKey: 'appUserId', defaultCondition: 'delivered', supportedConditions: ['accepted', 'delivered', 'read'] },
};
