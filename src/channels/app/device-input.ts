import { Type, type Static } from 'typebox';
import { MAX_PUSH_ENDPOINT_LENGTH, validatePushSubscription, type PushEndpointPolicy } from './push-subscription.js';
import type { PushSubscriptionInput } from './types.js';

export const DeviceIdParamsSchema = Type.Object({
  deviceId: Type.String({
    pattern: '^[A-Za-z0-9._~-]{1,128}$',
    description: '1 to 128 letters, digits or . _ ~ -',
  }),
});

/**
 * Body of `PUT /v1/app/devices/{deviceId}`. `push` is the browser's `PushSubscription.toJSON()`;
 * its `expirationTime` and any other extra fields are ignored. Without `push` (or with null) the
 * device has no push subscription and reads the inbox itself.
 */
export const DeviceBodySchema = Type.Object(
  {
    push: Type.Optional(
      Type.Union([
        Type.Object({
          endpoint: Type.String({ minLength: 1, maxLength: MAX_PUSH_ENDPOINT_LENGTH }),
          keys: Type.Object(
            {
              p256dh: Type.String({ minLength: 1, maxLength: 128 }),
              auth: Type.String({ minLength: 1, maxLength: 64 }),
            },
            { additionalProperties: false },
          ),
        }),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);

export type DeviceBody = Static<typeof DeviceBodySchema>;

/**
 * Checks a subscription that matches the schema with the same rules the Web Push sender applies
 * before each push (see `validatePushSubscription`), so a subscription accepted here is not
 * rejected at send time. Returns it with only the standard fields and the keys' padding removed.
 */
export function checkPushSubscription(
  push: NonNullable<DeviceBody['push']>,
  policy: PushEndpointPolicy,
): { ok: true; push: PushSubscriptionInput } | { ok: false; errors: Array<{ pointer: string; detail: string }> } {
  const subscription: PushSubscriptionInput = {
    endpoint: push.endpoint,
    keys: { p256dh: push.keys.p256dh.replace(/=+$/, ''), auth: push.keys.auth.replace(/=+$/, '') },
  };
  const problem = validatePushSubscription(subscription, policy);
  if (problem !== null) return { ok: false, errors: [{ pointer: '/push', detail: problem }] };
  return { ok: true, push: subscription };
}
