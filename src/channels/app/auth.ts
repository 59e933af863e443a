import { APP_SOCKET_PROTOCOL } from './protocol.js';
import { verifyAppToken } from './token.js';

/** Identity of an app request, from its verified app token. */
export interface AppIdentity {
  spaceId: string;
  profileId: string;
  appUserId: string;
  /** When the token expires, epoch ms. */
  tokenExpiresAt: number;
}

export type AppAuthResult =
  | { ok: true; identity: AppIdentity }
  /** `missing` when no token was sent, `rejected` when the token is invalid or expired. */
  | { ok: false; reason: 'missing' | 'rejected'; detail: string };

const NEW_TOKEN_HINT = 'Request a new one from the business backend (POST /v1/app/tokens).';

/** Returns the token of `Authorization: Bearer <token>`, or null when the header is absent or of another form. */
export function bearerToken(header: string | undefined): string | null {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * The token of a socket request: from `Sec-WebSocket-Protocol: cascade.v1, <token>`, else from
 * the `token` query parameter. A protocol header that offers other protocols but not
 * `cascade.v1` is an error, because the server could not respond with a protocol the client
 * accepts.
 */
export function socketToken(protocolHeader: string | undefined, queryToken: string | undefined): { ok: true; token: string | null } | { ok: false; detail: string } {
  if (protocolHeader !== undefined && protocolHeader.trim() !== '') {
    const offered = protocolHeader.split(',').map((item) => item.trim()).filter((item) => item !== '');
    if (!offered.includes(APP_SOCKET_PROTOCOL)) {
      return { ok: false, detail: `Sec-WebSocket-Protocol must offer ${APP_SOCKET_PROTOCOL}, followed by the app token.` };
    }
    const token = offered.find((item) => item !== APP_SOCKET_PROTOCOL);
    if (token !== undefined) return { ok: true, token };
  }
  return { ok: true, token: queryToken === undefined || queryToken === '' ? null : queryToken };
}

/** Verifies an app token at `now` (epoch ms). The details name the problem but never echo the token. */
export function authenticateAppToken(token: string | null, secret: string, now: number, missingHint: string): AppAuthResult {
  if (token === null) return { ok: false, reason: 'missing', detail: `The app token is missing. ${missingHint}` };
  const verified = verifyAppToken(token, secret, now);
  if (!verified.ok) {
    const detail = verified.reason === 'expired' ? `The app token has expired. ${NEW_TOKEN_HINT}` : `The app token is not valid. ${NEW_TOKEN_HINT}`;
    return { ok: false, reason: 'rejected', detail };
  }
  const { spaceId, profileId, appUserId, exp } = verified.claims;
  return { ok: true, identity: { spaceId, profileId, appUserId, tokenExpiresAt: exp * 1000 } };
}
