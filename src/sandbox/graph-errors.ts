import { randomBytes } from 'node:crypto';

/** A Graph API error response: HTTP status and the `{ error: … }` body. */
export interface GraphErrorResponse {
  status: number;
  body: { error: GraphErrorBody };
}

export interface GraphErrorBody {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  error_data?: { messaging_product?: 'whatsapp'; details: string };
  fbtrace_id: string;
}

/** Base of the `href` that WhatsApp status webhooks carry with each error. */
export const WHATSAPP_ERROR_CODES_URL = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

interface ErrorSpec {
  status: number;
  code: number;
  title: string;
  type?: string;
  subcode?: number;
}

/**
 * Graph API errors the sandbox responds with: HTTP status, error code and title, as listed in
 * Meta's WhatsApp Cloud API and Messenger Platform error code references.
 */
export const GRAPH_ERRORS = {
  invalidToken: { status: 401, code: 190, title: 'Invalid OAuth access token - Cannot parse access token' },
  invalidParameter: { status: 400, code: 100, title: 'Invalid parameter' },
  unknownPath: { status: 404, code: 2500, title: 'Unknown path components' },
  unsupportedMethod: { status: 400, code: 100, title: 'Unsupported request', subcode: 33 },
  // Meta's WhatsApp error code table lists 130429 with HTTP 400, not 429.
  throughputReached: { status: 400, code: 130429, title: 'Rate limit hit' },
  reEngagement: { status: 400, code: 131047, title: 'Re-engagement message' },
  personUnavailable: { status: 400, code: 551, title: "This person isn't available right now.", subcode: 1545041 },
} as const satisfies Record<string, ErrorSpec>;

/**
 * Builds a WhatsApp Cloud API error: the message is `(#code) title`, and `error_data.details`
 * carries the explanation.
 */
export function whatsAppError(spec: ErrorSpec, details: string): GraphErrorResponse {
  return {
    status: spec.status,
    body: {
      error: {
        message: `(#${spec.code}) ${spec.title}`,
        type: spec.type ?? 'OAuthException',
        code: spec.code,
        ...(spec.subcode === undefined ? {} : { error_subcode: spec.subcode }),
        error_data: { messaging_product: 'whatsapp', details },
        fbtrace_id: traceId(),
      },
    },
  };
}

/** Builds a Graph API error without `error_data`, the form of Messenger Send API errors and token errors. */
export function graphError(spec: ErrorSpec, message?: string): GraphErrorResponse {
  return {
    status: spec.status,
    body: {
      error: {
        message: message ?? (spec.code === 190 ? spec.title : `(#${spec.code}) ${spec.title}`),
        type: spec.type ?? 'OAuthException',
        code: spec.code,
        ...(spec.subcode === undefined ? {} : { error_subcode: spec.subcode }),
        fbtrace_id: traceId(),
      },
    },
  };
}

/** Generates a random id in the form of Graph's `fbtrace_id`. */
function traceId(): string {
  return randomBytes(9).toString('base64url');
}
