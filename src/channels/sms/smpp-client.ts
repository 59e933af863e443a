import type { Logger } from 'pino';
import { toDeliverSm, type DeliverSm } from './deliver-sm.js';
import { SmppBindError, SmppConnectionError } from './smpp-errors.js';
import { CommandStatus, describeCommandStatus, genericNack, readString, smpp, type Pdu, type SmppSession } from './smpp-pdu.js';
import { parseSmppUrl } from './smpp-url.js';
import type { EncodedPart } from './types.js';

export type { DeliverSm } from './deliver-sm.js';
export { SmppBindError, SmppConnectionError, type SmppConnectionErrorReason } from './smpp-errors.js';

export interface SmppTimingOptions {
  /** Interval between the client's `enquire_link` requests, in ms. Default 30 000. */
  enquireLinkMs?: number;
  /** Maximum wait for the TCP connection and for `bind_transceiver_resp`, `enquire_link_resp` and `unbind_resp`, in ms. Default 10 000. */
  responseTimeoutMs?: number;
  /** Delay before the first reconnect, in ms; each further attempt doubles it. Default 1 000. */
  reconnectMinMs?: number;
  /** Upper bound of the reconnect delay, in ms. Default 60 000. */
  reconnectMaxMs?: number;
  /** Maximum wait for `submit_sm_resp`, in ms. Default 10 000. */
  submitTimeoutMs?: number;
}

export interface SmppClientOptions extends SmppTimingOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  logger: Logger;
}

export interface SubmitRequest {
  source: string;
  sourceTon: number;
  sourceNpi: number;
  /** E.164 digits without the `+`; sent with TON 1 (international) and NPI 1 (E.164). */
  destination: string;
  part: EncodedPart;
  /** Requests a final delivery receipt (registered_delivery 1). */
  registeredDelivery: boolean;
  /** `schedule_delivery_time` in the SMPP absolute format (`YYMMDDhhmmsstnnp`); omitted sends at once. */
  scheduleDeliveryTime?: string;
}

export interface SubmitResult {
  /** `command_status` of `submit_sm_resp`; 0 is ESME_ROK. */
  commandStatus: number;
  /** The SMSC's message id, when the submit was accepted and the SMSC returned one. */
  messageId: string | null;
}

export type DeliverListener = (pdu: DeliverSm) => void | Promise<void>;

/**
 * idle → connecting → bound ⇄ reconnecting → closing → closed. `connecting` covers the TCP
 * connection and the bind of every attempt before the first bind; later attempts are
 * `reconnecting` until bound again.
 */
export type SmppClientState = 'idle' | 'connecting' | 'bound' | 'reconnecting' | 'closing' | 'closed';

interface PendingRequest {
  timer: NodeJS.Timeout;
  reject(error: SmppConnectionError): void;
}

/** One TCP connection to the SMSC and the requests waiting for a response on it. */
interface Link {
  id: number;
  session: SmppSession;
  bound: boolean;
  pending: Map<number, PendingRequest>;
  enquireTimer: NodeJS.Timeout | null;
  enquireInFlight: boolean;
  lastError: Error | null;
  closed: Promise<void>;
}

const SMPP_VERSION_3_4 = 0x34;
const TON_INTERNATIONAL = 1;
const NPI_E164 = 1;
/** `short_message` carries its length in one octet, and SMPP 3.4 allows at most 254. */
const MAX_SHORT_MESSAGE_OCTETS = 254;

/**
 * An SMPP 3.4 ESME bound as a transceiver: it submits messages and receives `deliver_sm` on one
 * connection. After the first bind it stays bound: when the connection closes, fails, or an
 * `enquire_link` gets no response, it reconnects with exponential backoff and binds again,
 * until `close()`. Before the first bind, a bind the SMSC rejects stops the client instead.
 *
 * @example
 * const client = SmppClient.fromUrl('smpp://acme:secret@127.0.0.1:2775', { logger });
 * client.onDeliver((pdu) => handle(pdu));
 * await client.connect();
 * const { commandStatus, messageId } = await client.submit({ source: 'ACME', sourceTon: 5, sourceNpi: 0, destination: '12025550101', part, registeredDelivery: true });
 */
export class SmppClient {
  readonly #options: Required<SmppTimingOptions> & Omit<SmppClientOptions, keyof SmppTimingOptions>;
  readonly #logger: Logger;
  readonly #endpoint: string;
  readonly #deliverListeners: DeliverListener[] = [];
  #state: SmppClientState = 'idle';
  #link: Link | null = null;
  #linkCount = 0;
  #everBound = false;
  #reconnectAttempt = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #firstBind: { resolve(): void; reject(error: Error): void } | null = null;
  #closing: Promise<void> | null = null;

  constructor(options: SmppClientOptions) {
    this.#options = {
      ...options,
      enquireLinkMs: options.enquireLinkMs ?? 30_000,
      responseTimeoutMs: options.responseTimeoutMs ?? 10_000,
      reconnectMinMs: options.reconnectMinMs ?? 1_000,
      reconnectMaxMs: options.reconnectMaxMs ?? 60_000,
      submitTimeoutMs: options.submitTimeoutMs ?? 10_000,
    };
    this.#endpoint = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
    this.#logger = options.logger.child({ smsc: this.#endpoint, systemId: options.systemId });
  }

  /** Builds a client from `smpp://system_id:password@host:port` (see `parseSmppUrl`). */
  static fromUrl(url: string, options: SmppTimingOptions & { logger: Logger }): SmppClient {
    return new SmppClient({ ...options, ...parseSmppUrl(url) });
  }

  get state(): SmppClientState {
    return this.#state;
  }

  /**
   * Connects and binds as a transceiver, and resolves at the first bind. When that first
   * attempt fails, the promise rejects.
   *
   * - `SmppBindError`: the SMSC rejected the bind. The client stops, because retrying a wrong
   *   password cannot succeed and can lock the account.
   * - `SmppConnectionError`: the SMSC could not be reached. The client keeps reconnecting in
   *   the background until `close()`.
   */
  connect(): Promise<void> {
    if (this.#state !== 'idle') {
      return Promise.reject(new Error(`SmppClient.connect() can be called once; the client is ${this.#state}.`));
    }
    this.#state = 'connecting';
    return new Promise<void>((resolve, reject) => {
      this.#firstBind = { resolve, reject };
      this.#open();
    });
  }

  /**
   * Sends one `submit_sm` and resolves with the SMSC's status and message id, whatever the status.
   *
   * @throws {SmppConnectionError} when the client is not bound, the response did not arrive
   *   within `submitTimeoutMs`, or the connection closed while waiting. After a timeout the
   *   SMSC may still have accepted the message.
   *
   * NOTE: the number of submits waiting for a response is not limited. An SMSC that enforces a
   * window responds to the excess with ESME_RTHROTTLED, which callers treat as transient.
   */
  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const link = this.#link;
    if (this.#state !== 'bound' || link === null || !link.bound) {
      throw new SmppConnectionError('not-bound', `Not bound to the SMSC at ${this.#endpoint} (client is ${this.#state}); try again later.`);
    }
    if (request.part.shortMessage.length > MAX_SHORT_MESSAGE_OCTETS) {
      throw new RangeError(
        `short_message of ${request.part.shortMessage.length} octets exceeds the SMPP 3.4 maximum of ${MAX_SHORT_MESSAGE_OCTETS}.`,
      );
    }

    const pdu = new smpp.PDU('submit_sm', {
      source_addr_ton: request.sourceTon,
      source_addr_npi: request.sourceNpi,
      source_addr: request.source,
      dest_addr_ton: TON_INTERNATIONAL,
      dest_addr_npi: NPI_E164,
      destination_addr: request.destination,
      esm_class: request.part.esmClass,
      registered_delivery: request.registeredDelivery ? 1 : 0,
      schedule_delivery_time: request.scheduleDeliveryTime ?? '',
      // Set explicitly: the package would otherwise pick a data_coding from the text.
      data_coding: request.part.dataCoding,
      short_message: request.part.shortMessage,
    });
    const response = await this.#request(link, pdu, this.#options.submitTimeoutMs);
    const commandStatus = response.command_status;
    const messageId = commandStatus === CommandStatus.ESME_ROK ? readString(response, 'message_id') : null;
    return { commandStatus, messageId: messageId === '' ? null : messageId };
  }

  /**
   * Adds a listener for incoming `deliver_sm` (delivery receipts and mobile-originated
   * messages). The client responds to each one with `deliver_sm_resp` once every listener has
   * settled: ESME_ROK, or ESME_RX_T_APPN when a listener threw or rejected, which asks the SMSC
   * to deliver it again later. Returns a function that removes the listener.
   */
  onDeliver(listener: DeliverListener): () => void {
    this.#deliverListeners.push(listener);
    return () => {
      const index = this.#deliverListeners.indexOf(listener);
      if (index >= 0) {
        this.#deliverListeners.splice(index, 1);
      }
    };
  }

  /** Unbinds, closes the connection and stops reconnecting. Requests still waiting reject. */
  close(): Promise<void> {
    if (this.#closing === null) {
      this.#closing = this.#shutDown();
    }
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    this.#state = 'closing';
    if (this.#reconnectTimer !== null) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = null;
    }
    this.#settleFirstBind(new SmppConnectionError('closed', `The SMPP client was closed before it bound to ${this.#endpoint}.`));

    const link = this.#link;
    if (link !== null) {
      if (link.bound) {
        try {
          await this.#request(link, new smpp.PDU('unbind'), this.#options.responseTimeoutMs);
          this.#logger.info({ connectionId: link.id }, 'SMPP unbound');
        } catch (error) {
          this.#logger.warn({ connectionId: link.id, err: error }, 'SMPP unbind failed; closing the connection anyway');
        }
      }
      await this.#endConnection(link);
    }
    this.#state = 'closed';
    this.#logger.info('SMPP client closed');
  }

  /** Ends the connection gracefully, and destroys it when the SMSC does not close its side in time. */
  async #endConnection(link: Link): Promise<void> {
    link.session.close();
    const timer = setTimeout(() => link.session.destroy(), this.#options.responseTimeoutMs);
    await link.closed;
    clearTimeout(timer);
  }

  #open(): void {
    const id = ++this.#linkCount;
    const session = smpp.connect({ host: this.#options.host, port: this.#options.port });
    let markClosed: () => void = () => undefined;
    const link: Link = {
      id,
      session,
      bound: false,
      pending: new Map(),
      enquireTimer: null,
      enquireInFlight: false,
      lastError: null,
      closed: new Promise<void>((resolve) => {
        markClosed = resolve;
      }),
    };
    this.#link = link;
    this.#logger.debug({ connectionId: id }, 'SMPP connecting');

    const connectTimer = setTimeout(() => {
      link.lastError = new SmppConnectionError('timeout', `TCP connection timed out after ${this.#options.responseTimeoutMs} ms`);
      session.destroy();
    }, this.#options.responseTimeoutMs);

    session.on('connect', () => {
      clearTimeout(connectTimer);
      void this.#bind(link);
    });
    session.on('error', (error: Error) => {
      link.lastError = error;
      this.#logger.warn({ connectionId: id, err: error }, 'SMPP connection error');
      // A malformed PDU leaves the session unable to read further, so the connection is dropped.
      session.destroy();
    });
    session.on('close', () => {
      clearTimeout(connectTimer);
      this.#onClose(link);
      markClosed();
    });
    session.on('pdu', (pdu: Pdu) => this.#onPdu(link, pdu));
  }

  async #bind(link: Link): Promise<void> {
    const pdu = new smpp.PDU('bind_transceiver', {
      system_id: this.#options.systemId,
      password: this.#options.password,
      system_type: this.#options.systemType ?? '',
      interface_version: SMPP_VERSION_3_4,
    });

    let response: Pdu;
    try {
      response = await this.#request(link, pdu, this.#options.responseTimeoutMs);
    } catch (error) {
      link.lastError = error instanceof Error ? error : new Error(String(error));
      this.#logger.warn({ connectionId: link.id, err: error }, 'SMPP bind got no response');
      link.session.destroy();
      return;
    }

    if (response.command_status !== CommandStatus.ESME_ROK) {
      const error = new SmppBindError(response.command_status, this.#endpoint, this.#options.systemId);
      link.lastError = error;
      this.#logger.error({ connectionId: link.id, commandStatus: describeCommandStatus(response.command_status) }, 'SMPP bind rejected');
      if (!this.#everBound) {
        // A rejected first bind is a configuration error: stop instead of retrying.
        this.#state = 'closed';
        this.#settleFirstBind(error);
      }
      link.session.destroy();
      return;
    }

    if (this.#state === 'closing' || this.#state === 'closed') {
      return;
    }
    link.bound = true;
    this.#everBound = true;
    this.#reconnectAttempt = 0;
    this.#state = 'bound';
    this.#logger.info({ connectionId: link.id, smscSystemId: readString(response, 'system_id') }, 'SMPP bound as transceiver');
    link.enquireTimer = setInterval(() => void this.#enquireLink(link), this.#options.enquireLinkMs);
    this.#settleFirstBind(null);
  }

  async #enquireLink(link: Link): Promise<void> {
    if (link.enquireInFlight || !link.bound) {
      return;
    }
    link.enquireInFlight = true;
    try {
      await this.#request(link, new smpp.PDU('enquire_link'), this.#options.responseTimeoutMs);
    } catch (error) {
      link.lastError = error instanceof Error ? error : new Error(String(error));
      this.#logger.warn({ connectionId: link.id, err: error }, 'SMPP enquire_link failed; reconnecting');
      link.session.destroy();
    } finally {
      link.enquireInFlight = false;
    }
  }

  #onClose(link: Link): void {
    if (link.enquireTimer !== null) {
      clearInterval(link.enquireTimer);
      link.enquireTimer = null;
    }
    for (const pending of link.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new SmppConnectionError('connection-lost', `The connection to the SMSC at ${this.#endpoint} closed before the response arrived.`));
    }
    link.pending.clear();
    const wasBound = link.bound;
    link.bound = false;
    if (this.#link !== link) {
      return;
    }
    this.#link = null;

    if (this.#state === 'closing' || this.#state === 'closed') {
      return;
    }
    if (wasBound) {
      this.#logger.warn({ connectionId: link.id, err: link.lastError ?? undefined }, 'SMPP connection closed');
    }
    if (this.#firstBind !== null) {
      const cause = link.lastError?.message ?? 'the connection closed before the bind';
      this.#settleFirstBind(
        new SmppConnectionError('unreachable', `Cannot reach the SMSC at ${this.#endpoint}: ${cause}. Reconnecting in the background.`, {
          cause: link.lastError ?? undefined,
        }),
      );
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    this.#reconnectAttempt += 1;
    const exponential = this.#options.reconnectMinMs * 2 ** (this.#reconnectAttempt - 1);
    // Up to 20% jitter keeps many Cascade processes from reconnecting in step.
    const delayMs = Math.round(Math.min(this.#options.reconnectMaxMs, exponential) * (0.8 + Math.random() * 0.2));
    if (this.#state !== 'connecting') {
      this.#state = 'reconnecting';
    }
    this.#logger.warn({ attempt: this.#reconnectAttempt, delayMs }, 'SMPP reconnect scheduled');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#open();
    }, delayMs);
  }

  #onPdu(link: Link, pdu: Pdu): void {
    if (pdu.isResponse()) {
      // Responses reach the callback given to session.send.
      return;
    }
    switch (pdu.command) {
      case 'deliver_sm':
        void this.#handleDeliver(link, pdu);
        return;
      case 'enquire_link':
        link.session.send(pdu.response());
        return;
      case 'unbind':
        this.#logger.info({ connectionId: link.id }, 'SMSC requested unbind; reconnecting');
        link.bound = false;
        link.session.send(pdu.response(), () => link.session.close());
        return;
      case 'alert_notification':
        // alert_notification has no response PDU.
        return;
      default:
        this.#logger.warn({ connectionId: link.id, command: pdu.command }, 'SMPP request not supported; responded with generic_nack');
        link.session.send(genericNack(pdu, CommandStatus.ESME_RINVCMDID));
    }
  }

  async #handleDeliver(link: Link, pdu: Pdu): Promise<void> {
    const fields = toDeliverSm(pdu);
    let status: number = CommandStatus.ESME_ROK;
    for (const listener of this.#deliverListeners) {
      try {
        await listener(fields);
      } catch (error) {
        status = CommandStatus.ESME_RX_T_APPN;
        this.#logger.error({ connectionId: link.id, sequenceNumber: pdu.sequence_number, err: error }, 'deliver_sm listener failed; asking the SMSC to resend');
      }
    }
    if (!link.session.send(pdu.response({ command_status: status }))) {
      this.#logger.warn({ connectionId: link.id, sequenceNumber: pdu.sequence_number }, 'deliver_sm_resp not sent because the connection closed');
    }
  }

  /** Sends a request on `link` and resolves with its response, whatever its command_status. */
  #request(link: Link, pdu: Pdu, timeoutMs: number): Promise<Pdu> {
    return new Promise<Pdu>((resolve, reject) => {
      const sent = link.session.send(pdu, (response) => {
        const pending = link.pending.get(pdu.sequence_number);
        if (pending !== undefined) {
          clearTimeout(pending.timer);
          link.pending.delete(pdu.sequence_number);
          resolve(response);
        }
      });
      if (!sent) {
        reject(new SmppConnectionError('connection-lost', `The connection to the SMSC at ${this.#endpoint} is closed; ${pdu.command} was not sent.`));
        return;
      }
      const timer = setTimeout(() => {
        link.pending.delete(pdu.sequence_number);
        reject(new SmppConnectionError('timeout', `${pdu.command} to the SMSC at ${this.#endpoint} got no response within ${timeoutMs} ms.`));
      }, timeoutMs);
      link.pending.set(pdu.sequence_number, { timer, reject });
    });
  }

  #settleFirstBind(error: Error | null): void {
    const firstBind = this.#firstBind;
    if (firstBind === null) {
      return;
    }
    this.#firstBind = null;
    if (error === null) {
      firstBind.resolve();
    } else {
      firstBind.reject(error);
    }
  }
}
