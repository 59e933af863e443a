import { Type } from 'typebox';
import { issueAppToken, newAppTokenClaims } from '../../channels/app/token.js';
import type { Store } from '../../store/types.js';
import type { ApiDeps, ApiInstance } from '../deps.js';
import { toDateTime } from '../message-view.js';
import { DateTimeSchema } from '../schemas/common.js';
import { SEND_LIMITS } from '../schemas/send-request.js';

/** Path of the app socket, relative to the API's base URL. */
export const APP_SOCKET_PATH = '/v1/app/socket';

const AppTokenRequestSchema = Type.Object(
  {
    profileId: Type.String({ minLength: 1, maxLength: SEND_LIMITS.profileIdLength, description: 'the profile the app is signed in as' }),
  },
  { additionalProperties: false, examples: [{ profileId: 'cust-1042' }] },
);

const AppTokenResponseSchema = Type.Object(
  {
    token: Type.String({ description: 'app token for Sec-WebSocket-Protocol or Authorization: Bearer' }),
    expiresAt: DateTimeSchema,
    profileId: Type.String(),
    appUserId: Type.String({ description: 'the address appMessaging sends this profile to' }),
    socketUrl: Type.String({ description: 'path of the app socket' }),
  },
  {
    examples: [
      {
        token: 'cat1.eyJzcGFjZUlkIjoiZGVmYXVsdCIsInByb2ZpbGVJZCI6ImN1c3QtMTA0MiJ9.6yBgNiS24FUziFe-7dFOT6ZYaSImeQX05M1OqiJFaZw',
        expiresAt: '2025-06-01T13:00:00.000Z',
        profileId: 'cust-1042',
        appUserId: 'cust-1042',
        socketUrl: APP_SOCKET_PATH,
      },
    ],
  },
);

/**
 * `POST /v1/app/tokens`: the business's backend requests an app token for one profile and hands
 * it to its app, which then opens the app socket or reads the app inbox as that profile's app
 * user. Behind the API key like every `/v1` route.
 *
 * A profile that does not exist is created, as sends create profiles. A profile without an
 * `appUserId` address gets its `profileId` as `appUserId`, so the first token for a profile
 * makes it reachable on `appMessaging`. An `appUserId` stored earlier is kept.
 */
export function registerAppTokenRoute(app: ApiInstance, deps: ApiDeps): void {
  // A token lets an app user acknowledge and read messages, which changes their status.
  const config = { scope: 'messages:write' as const };
  const tokens = deps.appTokens;
  if (tokens === null || tokens === undefined) return;

  app.post(
    '/v1/app/tokens',
    {
      config,
      schema: {
        summary: 'Issue an app token',
        description:
          'Issues a token for the app of one profile, for the business\'s backend to hand to its app. ' +
          'A profile that does not exist is created, and a profile without an appUserId gets its profileId as appUserId, so that appMessaging can reach it.',
        body: AppTokenRequestSchema,
        response: { 201: AppTokenResponseSchema },
      },
    },
    async (request, reply) => {
      const now = deps.now();
      const { profileId } = request.body;
      const appUserId = await ensureAppUserId(deps.store, request.spaceId, profileId, now);
      const claims = newAppTokenClaims({ spaceId: request.spaceId, profileId, appUserId }, now, tokens.ttlSeconds);
      const token = issueAppToken(claims, tokens.secret);
      request.log.info({ jti: claims.jti, ttlSeconds: tokens.ttlSeconds }, 'app token issued');
      return reply.status(201).send({ token, expiresAt: toDateTime(claims.exp * 1000), profileId, appUserId, socketUrl: APP_SOCKET_PATH });
    },
  );
}

/**
 * Returns the profile's `appUserId`, first storing the profile id as its `appUserId` when the
 * profile has none, and creating the profile when it does not exist.
 *
 * NOTE: when a send creates the same profile after the lookup found none, the put replaces that
 * profile and loses the addresses the send stored. The send itself still uses them.
 */
async function ensureAppUserId(store: Store, spaceId: string, profileId: string, now: number): Promise<string> {
  const existing = await store.getProfile(spaceId, profileId);
  const stored = existing?.addresses.appUserId;
  if (stored !== undefined && stored !== '') return stored;

  const input = { addresses: { appUserId: profileId } };
  const patched = existing === null ? null : await store.patchProfile(spaceId, profileId, input, now);
  if (patched !== null) return patched.addresses.appUserId ?? profileId;
  const { profile } = await store.putProfile(spaceId, profileId, input, now);
  return profile.addresses.appUserId ?? profileId;
}
