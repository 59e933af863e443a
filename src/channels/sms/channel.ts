import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { Condition, SendOutcome } from '../../routing/types.js';
import type { Addresses, Channel, ProviderReceipt, ReceiptListener, SendRequest } from '../types.js';
import { encodeSms, SmsEncodingError } from './encoding.js';
import { classifySubmitStatus } from './errors.js';
import { normalizePhoneNumber } from './phone.js';
import { messageIdKeys, parseDeliveryReceipt } from './receipt.js';
import { SmppClient, SmppConnectionError, type DeliverSm, type SmppClientOptions, type SmppTimingOptions } from './smpp-client.js';
import { resolveSourceAddress } from './source-address.js';

export type SmsChannelOptions = (
  | {
      /** `smpp://system_id:password@host:port` of the SMSC. */
      url: string;
      timing?: SmppTimingOptions;
    }
  | { client: Omit<SmppClientOptions, 'logger'> }
) & {
  /** Default sender: an alphanumeric name of up to 11 characters, a short code, or an international number. */
  sourceAddr: string;
  /** ISO 3166 region for phone numbers given in national format; null or unset rejects them. */
  defaultRegion?: string | null;
  logger: Logger;
};

/**
 * The `sms` channel: SMS over SMPP 3.4 to one SMSC, with delivery receipts from `deliver_sm`.
 *
 * Content: `customBody.sms.body` replaces the body, and `customBody.sms.from` or
 * `channelOptions.sms.from` replaces the sender. `channelOptions.sms.allowUnicode: false`
 * sends GSM 03.38 only, with `?` for the characters it lacks; otherwise text outside GSM 03.38
 * is sent as UCS-2. `customBody.sms.deliverAfter` (an RFC 3339 time) asks the SMSC to hold the
 * message until then. Every part requests a delivery receipt.
 *
 * @example
 * const sms = new SmsChannel({ url: 'smpp://acme:secret@smsc.example.net:2775', sourceAddr: 'ACME', logger });
 * sms.onReceipt((receipt) => store.applyReceipt(receipt));
 * await sms.start();
 */
export class SmsChannel implements Channel {
  readonly id = 'sms' as const;
  readonly defaultCondition: Condition = 'delivered';
  readonly supportedConditions: readonly Condition[] = ['accepted', 'delivered'];
  readonly #client: SmppClient;
  readonly #logger: Logger;
  readonly #sourceAddr: string;
  readonly #defaultRegion: string | null;
  readonly #listeners: ReceiptListener[] = [];
  /** Concatenation reference of the next message; only the low 8 bits are sent. */
  #nextReference = randomInt(0, 256);

  constructor(options: SmsChannelOptions) {
    this.#logger = options.logger;
    this.#sourceAddr = options.sourceAddr;
    this.#defaultRegion = options.defaultRegion ?? null;
    this.#client =
      'url' in options
        ? SmppClient.fromUrl(options.url, { ...options.timing, logger: options.logger })
        : new SmppClient({ ...options.client, logger: options.logger });
    this.#client.onDeliver((pdu) => this.#onDeliver(pdu));
  }

  resolveAddress(addresses: Addresses): string | null {
    const phoneNumber = addresses.phoneNumber;
    if (phoneNumber === undefined || phoneNumber.trim() === '') {
      return null;
    }
    const result = normalizePhoneNumber(phoneNumber, this.#defaultRegion);
    return result.ok ? result.e164 : null;
  }

  /**
   * Submits every part of the message in order and returns `accepted` with the SMSC's id of
   * each part, the first being `providerMessageId`.
   *
   * NOTE: when a part after the first is rejected or times out, the outcome is that failure's
   * classification, and the ids of the parts already accepted are not returned. Those parts may
   * reach the handset, and a retry submits every part again.
   */
  async send(request: SendRequest): Promise<SendOutcome> {
    const logger = this.#logger.child({ messageId: request.messageId, step: request.step, attempt: request.attempt });
    try {
      return await this.#submitParts(request, logger);
    } catch (error) {
      return this.#classifyThrown(error, logger);
    }
  }

  matchKeys(providerMessageId: string): string[] {
    return messageIdKeys(providerMessageId);
  }

  onReceipt(listener: ReceiptListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Connects and binds to the SMSC, and rejects when the first attempt fails. When the SMSC was
   * unreachable, the client keeps reconnecting in the background and sends return `transient`
   * until it binds. When the SMSC rejected the credentials, the client stops.
   */
  async start(): Promise<void> {
    await this.#client.connect();
  }

  async stop(): Promise<void> {
    await this.#client.close();
  }

  async #submitParts(request: SendRequest, logger: Logger): Promise<SendOutcome> {
    const custom = request.content.custom;
    const options = request.content.options;
    const text = stringField(custom, 'body') ?? request.content.body;
    const from = stringField(custom, 'from') ?? stringField(options, 'from') ?? this.#sourceAddr;
    const allowUnicode = booleanField(options, 'allowUnicode') ?? true;
    const scheduleDeliveryTime = smppScheduleTime(stringField(custom, 'deliverAfter'), Date.now());

    const source = resolveSourceAddress(from);
    if (!source.ok) {
      return { kind: 'permanent', code: 'invalid-source-address', message: source.reason };
    }
    const destination = request.address.replace(/^\+/, '');
    if (!/^[1-9]\d{1,14}$/.test(destination)) {
      return {
        kind: 'permanent',
        code: 'invalid-address',
        message: 'The phone number is not in E.164 format (a country code and up to 15 digits in total).',
      };
    }

    const reference = this.#nextReference;
    this.#nextReference = (this.#nextReference + 1) & 0xff;
    const sms = encodeSms(text, { allowUnicode, reference });

    const partIds: string[] = [];
    for (const [index, part] of sms.parts.entries()) {
      const result = await this.#client.submit({
        source: source.address,
        sourceTon: source.ton,
        sourceNpi: source.npi,
        destination,
        part,
        registeredDelivery: true,
        ...(scheduleDeliveryTime === null ? {} : { scheduleDeliveryTime }),
      });

      if (result.commandStatus !== 0) {
        const classified = classifySubmitStatus(result.commandStatus);
        logger.warn(
          { part: index + 1, parts: sms.parts.length, partsAccepted: partIds.length, code: classified.code, kind: classified.kind },
          'SMS part rejected by the SMSC',
        );
        return { kind: classified.kind, code: classified.code, message: classified.message };
      }
      if (result.messageId === null) {
        // NOTE: without an id no receipt can be matched, so the step could only wait for its timeout.
        logger.error({ part: index + 1, parts: sms.parts.length }, 'SMSC accepted an SMS part without a message id');
        return {
          kind: 'permanent',
          code: 'missing-message-id',
          message: 'The SMSC accepted the message but returned no message id, so its delivery receipt cannot be matched.',
        };
      }
      partIds.push(result.messageId);
    }

    const providerMessageId = partIds[0] ?? '';
    logger.info({ providerMessageId, parts: partIds.length, encoding: sms.encoding }, 'SMS accepted by the SMSC');
    return { kind: 'accepted', providerMessageId, partIds };
  }

  #classifyThrown(error: unknown, logger: Logger): SendOutcome {
    if (error instanceof SmppConnectionError) {
      logger.warn({ err: error, reason: error.reason }, 'SMS not submitted: SMSC connection problem');
      return { kind: 'transient', code: `smpp-${error.reason}`, message: error.message };
    }
    if (error instanceof SmsEncodingError) {
      logger.warn({ err: error }, 'SMS text cannot be encoded');
      return { kind: 'permanent', code: 'invalid-content', message: error.message };
    }
    // An unexpected error is a fault in Cascade, which a retry would repeat.
    logger.error({ err: error }, 'SMS send failed unexpectedly');
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'permanent', code: 'internal-error', message: `Sending the SMS failed unexpectedly: ${message}` };
  }

  /** Turns a final delivery receipt into a `ProviderReceipt` for every listener; rejects when a listener fails, so the SMSC resends it. */
  async #onDeliver(pdu: DeliverSm): Promise<void> {
    const parsed = parseDeliveryReceipt(pdu);
    if (parsed === null) {
      this.#logger.info(
        { dataCoding: pdu.data_coding, octets: pdu.short_message.length },
        'mobile-originated SMS received; not handled',
      );
      return;
    }

    switch (parsed.state) {
      case 'delivered':
      case 'failed':
      case 'expired':
        break;
      case 'accepted':
      case 'unknown':
        this.#logger.info({ providerMessageId: parsed.messageId, stat: parsed.stat }, 'intermediate SMS receipt ignored');
        return;
      default: {
        const unexpected: never = parsed.state;
        throw new Error(`Unhandled receipt state ${String(unexpected)}`);
      }
    }

    const receipt: ProviderReceipt = {
      channel: 'sms',
      providerMessageId: parsed.messageId,
      state: parsed.state,
      errorCode: parsed.state === 'delivered' ? null : receiptErrorCode(parsed.err, parsed.stat),
      providerTimestamp: parsed.doneDate,
    };
    this.#logger.debug({ providerMessageId: receipt.providerMessageId, state: receipt.state, errorCode: receipt.errorCode }, 'SMS receipt');

    const failures: unknown[] = [];
    for (const listener of this.#listeners) {
      try {
        await listener(receipt);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) {
      throw new AggregateError(failures, `${failures.length} receipt listener(s) failed for SMS ${receipt.providerMessageId}.`);
    }
  }
}

/** Returns the receipt's error code when it names one, else its status word. `err:000` names none. */
function receiptErrorCode(err: string | null, stat: string | null): string | null {
  if (err !== null && !/^0+$/.test(err)) {
    return err;
  }
  return stat;
}

/**
 * Format `deliverAfter` as an SMPP absolute time in UTC (`YYMMDDhhmmss000+`); null when it is
 * absent, unreadable or not in the future, which sends the message at once.
 */
export function smppScheduleTime(deliverAfter: string | null, now: number): string | null {
  if (deliverAfter === null) return null;
  const at = Date.parse(deliverAfter);
  if (!Number.isFinite(at) || at <= now) return null;
  const iso = new Date(at).toISOString();
  const digits = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  // Tenths of a second, then the quarter-hour offset from UTC (00) and its sign.
  return `${digits}000+`;
}

function stringField(record: Record<string, unknown> | null, key: string): string | null {
  const value = record?.[key];
  return typeof value === 'string' ? value : null;
}

function booleanField(record: Record<string, unknown> | null, key: string): boolean | null {
  const value = record?.[key];
  return typeof value === 'boolean' ? value : null;
}
