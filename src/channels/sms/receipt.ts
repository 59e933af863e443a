/**
 * SMPP 3.4 delivery receipts: the `deliver_sm` an SMSC sends back about a message it accepted.
 * The receipt text follows the de facto format of SMPP 3.4 Appendix B:
 *
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
 *
 * SMSCs vary it (case, spacing, order, missing fields), so the parser reads each `key:value`
 * wherever it appears.
 */

/** The `deliver_sm` fields a receipt is read from, as the `smpp` package decodes them. */
export interface DeliverSmFields {
  esm_class: number;
  /** A Buffer, a string, or `{ message }` after the `smpp` package decoded the text. */
  short_message?: Buffer | string | { message: Buffer | string } | undefined;
  /** Some SMSCs send the receipt text in this TLV instead of `short_message`. */
  message_payload?: Buffer | string | { message: Buffer | string } | undefined;
  receipted_message_id?: string;
  message_state?: number;
  /** Three octets: network type, then a 16-bit error code. */
  network_error_code?: unknown;
}

export type ReceiptStatus = 'delivered' | 'failed' | 'expired' | 'accepted' | 'unknown';

export interface ParsedReceipt {
  messageId: string;
  state: ReceiptStatus;
  /**
   * The status word `state` was derived from, upper case: the text's `stat:` value (DELIVRD,
   * UNDELIV, …), or the SMPP 3.4 name of the `message_state` TLV (DELIVERED, UNDELIVERABLE, …).
   */
  stat: string | null;
  /**
   * The `network_error_code` TLV as `<network type>:<code>` (e.g. `GSM:34`), else the text's
   * `err:` value. A TLV of three zero octets counts as absent.
   */
  err: string | null;
  /** Epoch milliseconds, UTC. */
  submitDate: number | null;
  /** Epoch milliseconds, UTC. */
  doneDate: number | null;
}

/** esm_class bits 2-5 (mask 0x3C) contain the message type, and type 0x04 is an SMSC delivery receipt. */
const ESM_CLASS_TYPE_MASK = 0x3c;
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;

/** `message_state` TLV values of SMPP 3.4. */
const MESSAGE_STATES: Readonly<Record<number, { name: string; state: ReceiptStatus }>> = {
  1: { name: 'ENROUTE', state: 'accepted' },
  2: { name: 'DELIVERED', state: 'delivered' },
  3: { name: 'EXPIRED', state: 'expired' },
  4: { name: 'DELETED', state: 'failed' },
  5: { name: 'UNDELIVERABLE', state: 'failed' },
  6: { name: 'ACCEPTED', state: 'accepted' },
  7: { name: 'UNKNOWN', state: 'unknown' },
  8: { name: 'REJECTED', state: 'failed' },
};

const STAT_STATES: Readonly<Record<string, ReceiptStatus>> = {
  DELIVRD: 'delivered',
  UNDELIV: 'failed',
  REJECTD: 'failed',
  DELETED: 'failed',
  EXPIRED: 'expired',
  ACCEPTD: 'accepted',
  ENROUTE: 'accepted',
};

/**
 * Network types of the `network_error_code` TLV that SMPP 3.4 and 5.0 define alike. Other types
 * are written as `network-type-<n>`.
 */
const NETWORK_TYPES: Readonly<Record<number, string>> = {
  1: 'ANSI-136',
  2: 'IS-95',
  3: 'GSM',
};

/**
 * A key at the start of the text or after a character that cannot be part of a word. `submit
 * date` and `done date` may be spelled with a space, an underscore or nothing in between.
 */
const KEY_PATTERN = /(?<![A-Za-z0-9_])(id|sub|dlvrd|submit[ _]*date|done[ _]*date|stat|err|text)\s*:/gi;

type ReceiptKey = 'id' | 'sub' | 'dlvrd' | 'submitdate' | 'donedate' | 'stat' | 'err' | 'text';

/**
 * Parses a `deliver_sm` as a delivery receipt. Returns null when it is not one: esm_class does
 * not mark a delivery receipt and the text lacks `id:` or `stat:`, or no message id is given
 * by either the `receipted_message_id` TLV or the text.
 *
 * The TLVs `receipted_message_id`, `message_state` and `network_error_code` take precedence
 * over the text's `id:`, `stat:` and `err:` when present. A `message_state` outside 1-8 is
 * ignored.
 *
 * @example
 * parseDeliveryReceipt({ esm_class: 0x04, short_message: 'id:42 stat:DELIVRD err:000' });
 * // { messageId: '42', state: 'delivered', stat: 'DELIVRD', err: '000', submitDate: null, doneDate: null }
 */
export function parseDeliveryReceipt(pdu: DeliverSmFields): ParsedReceipt | null {
  const text = textOf(pdu.short_message) || textOf(pdu.message_payload);
  const fields = parseReceiptText(text);
  const markedAsReceipt = (pdu.esm_class & ESM_CLASS_TYPE_MASK) === ESM_CLASS_DELIVERY_RECEIPT;
  if (!markedAsReceipt && (fields.id === undefined || fields.stat === undefined)) {
    return null;
  }

  const messageId = nonEmpty(pdu.receipted_message_id) ?? nonEmpty(firstToken(fields.id));
  if (messageId === null) {
    return null;
  }

  const tlvState = pdu.message_state === undefined ? undefined : MESSAGE_STATES[pdu.message_state];
  const textStat = nonEmpty(firstToken(fields.stat))?.toUpperCase() ?? null;
  const stat = tlvState?.name ?? textStat;
  const state = tlvState?.state ?? (textStat === null ? 'unknown' : (STAT_STATES[textStat] ?? 'unknown'));

  return {
    messageId,
    state,
    stat,
    err: formatNetworkErrorCode(pdu.network_error_code) ?? nonEmpty(firstToken(fields.err)),
    submitDate: parseReceiptDate(fields.submitdate),
    doneDate: parseReceiptDate(fields.donedate),
  };
}

/**
 * Converts a receipt date, `YYMMDDhhmm` or `YYMMDDhhmmss` read as UTC in the years 2000-2099,
 * to epoch milliseconds. Returns null for anything else, including impossible dates.
 */
export function parseReceiptDate(value: string | undefined): number | null {
  const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(firstToken(value) ?? '');
  if (match === null) {
    return null;
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? '0'));
  const epoch = Date.UTC(2000 + (year ?? 0), (month ?? 0) - 1, day, hour, minute, second);
  const date = new Date(epoch);
  const exact =
    date.getUTCMonth() + 1 === month &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return exact ? epoch : null;
}

/** Reads every `key:value` of a receipt text. The first occurrence of a key wins. */
function parseReceiptText(text: string): Partial<Record<ReceiptKey, string>> {
  const matches = [...text.matchAll(KEY_PATTERN)];
  const fields: Partial<Record<ReceiptKey, string>> = {};
  matches.forEach((match, index) => {
    const key = (match[1] ?? '').toLowerCase().replace(/[ _]/g, '') as ReceiptKey;
    const start = (match.index ?? 0) + match[0].length;
    const end = matches[index + 1]?.index ?? text.length;
    if (fields[key] === undefined) {
      fields[key] = text.slice(start, end).trim();
    }
  });
  return fields;
}

function textOf(value: DeliverSmFields['short_message']): string {
  if (value === undefined) {
    return '';
  }
  const message = typeof value === 'string' || Buffer.isBuffer(value) ? value : value.message;
  return typeof message === 'string' ? message : message.toString('latin1');
}

function firstToken(value: string | undefined): string | undefined {
  return value?.trim().split(/\s+/)[0];
}

function nonEmpty(value: string | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}

function formatNetworkErrorCode(value: unknown): string | null {
  if (!(value instanceof Uint8Array) || value.length < 3 || value.every((octet) => octet === 0)) {
    return null;
  }
  const networkType = value[0] ?? 0;
  const code = ((value[1] ?? 0) << 8) | (value[2] ?? 0);
  return `${NETWORK_TYPES[networkType] ?? `network-type-${networkType}`}:${code}`;
}

const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * Returns the keys under which a provider message id is matched, so that an id reported in hex
 * by `submit_sm_resp` and in decimal by the receipt (or the other way round) share a key.
 *
 * The first key is the id trimmed, in lower case, without leading zeros ("0" stays "0"). An id
 * of decimal digits adds the hex form of its value, and an id of hex digits adds the decimal
 * form of its value, so an id of only decimal digits gets both. Values above 64 bits get no
 * converted form. The list has no duplicates, and an empty id has no keys.
 *
 * @example
 * messageIdKeys('0A1B'); // ['a1b', '2587']
 * messageIdKeys('2587'); // ['2587', 'a1b', '9607']
 */
export function messageIdKeys(id: string): string[] {
  const trimmed = id.trim().toLowerCase();
  if (trimmed === '') {
    return [];
  }
  const keys = new Set([trimmed.replace(/^0+(?=.)/, '')]);
  if (/^[0-9]+$/.test(trimmed)) {
    const value = BigInt(trimmed);
    if (value <= MAX_UINT64) {
      keys.add(value.toString(16));
    }
  }
  if (/^[0-9a-f]+$/.test(trimmed)) {
    const value = BigInt(`0x${trimmed}`);
    if (value <= MAX_UINT64) {
      keys.add(value.toString(10));
    }
  }
  return [...keys];
}
