/**
 * Classification of failed Graph API send calls (WhatsApp Cloud API `/messages` and the
 * Messenger Send API) into the outcome classes of the routing engine.
 */

import {
  MESSENGER_GRAPH_ERRORS,
  SHARED_GRAPH_ERRORS,
  WHATSAPP_GRAPH_ERRORS,
  type GraphErrorEntry,
  type GraphErrorKind,
} from './graph-error-codes.js';

export type MetaChannelId = 'whatsApp' | 'fbMessenger';

export interface GraphErrorClass {
  kind: GraphErrorKind;
  /**
   * `graph-<code>` or `graph-<code>-<subcode>` for a Graph error, else `http-<status>`, or
   * `network-error` when no response arrived.
   */
  code: string;
  message: string;
  addressUnreachable: boolean;
}

/** The fields of a Graph API error body `{ error: { message, type, code, error_subcode, error_data, fbtrace_id } }`. */
interface GraphErrorFields {
  code: number;
  subcode: number | null;
  message: string | null;
  details: string | null;
}

/** Maximum length of provider text copied into a message. */
const MAX_PROVIDER_TEXT = 300;

/**
 * Runs of 32 or more token characters. Graph access tokens are far longer, and some error
 * messages quote the token they rejected, so such runs are cut out of provider text.
 */
const TOKEN_LIKE = /[A-Za-z0-9_|-]{32,}/g;

const CHANNEL_TABLES: Record<MetaChannelId, ReadonlyMap<string, GraphErrorEntry>> = {
  whatsApp: WHATSAPP_GRAPH_ERRORS,
  fbMessenger: MESSENGER_GRAPH_ERRORS,
};

function readInteger(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return value;
  }
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) {
    return Number(value);
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the `error` object of a Graph API response body, given parsed or as JSON text. Returns null when there is none. */
function readGraphError(body: unknown): GraphErrorFields | null {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return null;
    }
  }
  if (!isRecord(parsed) || !isRecord(parsed.error)) {
    return null;
  }
  const error = parsed.error;
  const code = readInteger(error.code);
  if (code === null) {
    return null;
  }
  // WhatsApp puts an object `{ details }` in `error_data`, and older Messenger responses put a string there.
  let details: string | null = null;
  if (isRecord(error.error_data) && typeof error.error_data.details === 'string') {
    details = error.error_data.details;
  } else if (typeof error.error_data === 'string') {
    details = error.error_data;
  }
  return {
    code,
    subcode: readInteger(error.error_subcode),
    message: typeof error.message === 'string' ? error.message : null,
    details,
  };
}

/**
 * Makes provider text safe for logs and the API: one line, token-like runs removed, and at most
 * `MAX_PROVIDER_TEXT` characters.
 */
function sanitizeProviderText(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim().replace(TOKEN_LIKE, '[redacted]');
  return oneLine.length > MAX_PROVIDER_TEXT ? `${oneLine.slice(0, MAX_PROVIDER_TEXT - 1)}…` : oneLine;
}

/**
 * Returns transient for 408, 409 and 429, which are worth retrying, and permanent for other 4xx,
 * which fail the same way again. 5xx and unexpected statuses are transient because they may pass later.
 */
function kindForHttpStatus(httpStatus: number): GraphErrorKind {
  if (httpStatus === 408 || httpStatus === 409 || httpStatus === 429) {
    return 'transient';
  }
  return httpStatus >= 400 && httpStatus < 500 ? 'permanent' : 'transient';
}

interface TableMatch {
  entry: GraphErrorEntry;
  /** The key matched, `"<code>"` or `"<code>/<subcode>"`. */
  key: string;
}

function findEntry(error: GraphErrorFields, channel: MetaChannelId): TableMatch | null {
  const codeKey = String(error.code);
  const pairKey = error.subcode === null ? null : `${codeKey}/${error.subcode}`;
  for (const table of [CHANNEL_TABLES[channel], SHARED_GRAPH_ERRORS]) {
    if (pairKey !== null) {
      const pair = table.get(pairKey);
      if (pair !== undefined) {
        return { entry: pair, key: pairKey };
      }
    }
    const single = table.get(codeKey);
    if (single !== undefined) {
      return { entry: single, key: codeKey };
    }
  }
  // Codes 200 to 299 each name one missing permission.
  if (error.code >= 200 && error.code <= 299) {
    return {
      entry: { kind: 'permanent', configuration: true, description: 'A permission the call needs is missing or was removed' },
      key: codeKey,
    };
  }
  return null;
}

function describeCode(error: GraphErrorFields): string {
  return error.subcode === null
    ? `Graph API error ${error.code}`
    : `Graph API error ${error.code}, subcode ${error.subcode}`;
}

/**
 * Classifies the failed response of a Graph API send call.
 *
 * - `httpStatus` null means no response arrived (network error or timeout): transient, code
 *   `network-error`.
 * - A Graph error whose code (or code and subcode) is in the tables of `graph-error-codes.ts`
 *   takes the class from the table, whatever the HTTP status.
 * - Any other Graph error, or a body without one, takes the class from the HTTP status: 408,
 *   409 and 429 are transient, other 4xx permanent, 5xx and unexpected statuses transient.
 *
 * `message` is the table's description, or the provider's text for codes not in the tables,
 * with token-like strings removed. `body` is the parsed JSON body or its raw text.
 *
 * @example
 * classifyGraphError(400, { error: { code: 131026, message: 'Message Undeliverable.' } }, 'whatsApp');
 * // { kind: 'permanent', code: 'graph-131026', message: 'Message undeliverable because …', addressUnreachable: true }
 */
export function classifyGraphError(httpStatus: number | null, body: unknown, channel: MetaChannelId): GraphErrorClass {
  if (httpStatus === null) {
    return {
      kind: 'transient',
      code: 'network-error',
      message: 'No response from the Graph API (network error or timeout)',
      addressUnreachable: false,
    };
  }

  const error = readGraphError(body);
  if (error === null) {
    return {
      kind: kindForHttpStatus(httpStatus),
      code: `http-${httpStatus}`,
      message: `HTTP ${httpStatus} from the Graph API without a Graph error in the body`,
      addressUnreachable: false,
    };
  }

  const match = findEntry(error, channel);
  if (match === null) {
    const providerText = error.details ?? error.message;
    return {
      kind: kindForHttpStatus(httpStatus),
      code: `graph-${error.code}`,
      message:
        providerText === null
          ? `${describeCode(error)} (HTTP ${httpStatus})`
          : `${describeCode(error)} (HTTP ${httpStatus}): ${sanitizeProviderText(providerText)}`,
      addressUnreachable: false,
    };
  }

  return {
    kind: match.entry.kind,
    code: `graph-${match.key.replace('/', '-')}`,
    message: `${match.entry.description} (${describeCode(error)})`,
    addressUnreachable: match.entry.addressUnreachable === true,
  };
}

/** Outcome codes of all table entries with `flag` set, as `classifyGraphError` writes them. */
function codesWith(flag: 'outsideWindow' | 'configuration'): ReadonlySet<string> {
  const codes = new Set<string>();
  for (const table of [SHARED_GRAPH_ERRORS, WHATSAPP_GRAPH_ERRORS, MESSENGER_GRAPH_ERRORS]) {
    for (const [key, entry] of table) {
      if (entry[flag] === true) {
        codes.add(`graph-${key.replace('/', '-')}`);
      }
    }
  }
  return codes;
}

const OUTSIDE_WINDOW_CODES = codesWith('outsideWindow');
const CONFIGURATION_CODES = codesWith('configuration');

/**
 * True for an outcome code meaning that the person last wrote too long ago for a free-form
 * message: WhatsApp 131047 (24-hour customer service window) and Messenger 10 with subcode
 * 2018278. A template (WhatsApp) or a message tag (Messenger) may still reach them.
 */
export function isOutsideWindowError(code: string): boolean {
  return OUTSIDE_WINDOW_CODES.has(code);
}

/**
 * True for an outcome code that fails every message of the channel until an operator changes
 * its settings or the Meta account: an expired token, missing permissions (3, 10, 200-299),
 * a locked or blocked account, an unregistered business number.
 */
export function isConfigurationError(code: string): boolean {
  if (CONFIGURATION_CODES.has(code)) {
    return true;
  }
  return /^graph-2\d\d$/.test(code);
}
