import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { decodeSms, type ConcatInfo } from '../channels/sms/encoding.js';
import {
  CommandStatus,
  describeCommandStatus,
  genericNack,
  readBuffer,
  readNumber,
  readString,
  smpp,
  type Pdu,
  type SmppSession,
} from '../channels/sms/smpp-pdu.js';
import { buildReceiptPdu, type SandboxReceipt, type SandboxReceiptOutcome } from './smsc-receipt.js';
import { TestRecipients, type RecipientBehaviour } from './smsc-recipients.js';

export interface SandboxSmscOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** When set, binds with another system_id are rejected with ESME_RINVSYSID. */
  systemId?: string;
  /** When set, binds with another password are rejected with ESME_RINVPASWD. */
  password?: string;
  logger: Logger;
  /** Delay from submit to receipt, in ms. Default 300 for DELIVRD and 1 000 for UNDELIV. */
  receiptDelayMs?: { delivered?: number; undeliverable?: number };
  /**
   * Sends each receipt right after its `submit_sm`, before the `submit_sm_resp`, and delays the
   * response until the ESME responds to the receipt's `deliver_sm` (at most 1 s), so the receipt
   * reaches the ESME before its submit returns. `receiptDelayMs` does not apply. Default false.
   */
  receiptBeforeResponse?: boolean;
  /** Sends every receipt twice, as two `deliver_sm` with the same content. Default false. */
  duplicateReceipts?: boolean;
  /**
   * With `duplicateReceipts`, makes the copy name the message id in the other form: it adds the
   * TLVs (hex `receipted_message_id`) when the first has none, and leaves them out (decimal id
   * in the text only) when the first has them. Default false.
   */
  duplicateInOtherIdForm?: boolean;
  /**
   * Keeps every receipt from the moment of its submit until `releaseReceipts` is called, in
   * place of `receiptDelayMs`. Cannot be combined with `receiptBeforeResponse`. Default false.
   */
  holdReceipts?: boolean;
  /**
   * Waits this many ms before each `submit_sm_resp`, so submits stay in flight long enough for a
   * test to stop the ESME in the middle of its send calls. Default 0.
   */
  responseDelayMs?: number;
  /**
   * The id of the first accepted message; later ones count up from it. Default: random, so that
   * two sandbox SMSCs rarely issue the same ids. Tests set it to make two SMSCs collide.
   */
  firstMessageId?: number;
}

/** One `submit_sm` the sandbox received, accepted or not. */
export interface SubmitRecord {
  /** The id returned in `submit_sm_resp` (upper-case hex); null when the submit was rejected. */
  messageId: string | null;
  /** `command_status` of the `submit_sm_resp`: 0 (ESME_ROK) when accepted. */
  commandStatus: number;
  accepted: boolean;
  systemId: string;
  source: string;
  sourceTon: number;
  sourceNpi: number;
  /** `destination_addr` as received. */
  destination: string;
  destinationTon: number;
  destinationNpi: number;
  /** Decoded text of this part, without the user data header; empty when it could not be decoded. */
  text: string;
  shortMessage: Buffer;
  dataCoding: number;
  esmClass: number;
  /** The concatenation header of this part, or null for a message sent whole. */
  concat: ConcatInfo | null;
  registeredDelivery: number;
  /** Epoch ms. */
  receivedAt: number;
}

export interface SandboxSmsc {
  host: string;
  port: number;
  /** `smpp://system_id:password@host:port` for the client. */
  url: string;
  /** Every `submit_sm` received, oldest first; the last 100 000 are kept. */
  submits(): SubmitRecord[];
  /** Resolves with the first submit, already received or arriving later, that matches `predicate`. */
  waitForSubmit(predicate: (record: SubmitRecord) => boolean, timeoutMs?: number): Promise<SubmitRecord>;
  /** Number of receipts that are due but wait for their system_id to bind a receiver or transceiver. */
  queuedReceipts(): number;
  /** Number of receipts kept by `holdReceipts` and not released yet. */
  heldReceipts(): number;
  /**
   * Sends the oldest `count` held receipts (all when omitted), in submit order, and returns how
   * many it sent. Only receipts kept by the `holdReceipts` option are held.
   */
  releaseReceipts(count?: number): number;
  /** Closes every connection at once, without an unbind, as a failing SMSC or network would. */
  dropConnections(): void;
  close(): Promise<void>;
}

const MAX_RECORDS = 100_000;
const MAX_QUEUED_RECEIPTS = 100_000;
/** A receipt the ESME rejected with an error status is sent again after this delay, at most this many times. */
const RECEIPT_RETRY_DELAY_MS = 1_000;
const MAX_RECEIPT_ATTEMPTS = 10;
/** Longest delay of a `submit_sm_resp` under `receiptBeforeResponse` while its receipt has no `deliver_sm_resp`. */
const MAX_RESPONSE_DELAY_MS = 1_000;
/** Invalid data coding scheme: the text could not be decoded. */
const ESME_RINVDCS = 0x104;

type BindType = 'transceiver' | 'transmitter' | 'receiver';

interface SubmitWaiter {
  predicate: (record: SubmitRecord) => boolean;
  resolve(record: SubmitRecord): void;
  reject(error: Error): void;
}

interface SessionState {
  id: number;
  session: SmppSession;
  systemId: string | null;
  bindType: BindType | null;
  /** Receipts sent on this session that have no `deliver_sm_resp` yet, by sequence number. */
  awaitingResponse: Map<number, QueuedReceipt>;
}

interface QueuedReceipt {
  receipt: SandboxReceipt;
  systemId: string;
  /** The session the message was submitted on; receipts go there while it is bound. */
  origin: SessionState;
  attempts: number;
  /** Called when the ESME responds to a send of this receipt, with any status. */
  onResponse?: () => void;
}

/**
 * Starts a local SMPP 3.4 SMSC for development and tests, built on the server side of the
 * `smpp` package. It accepts transceiver, transmitter and receiver binds, responds to
 * `enquire_link` and `unbind`, and handles `submit_sm` by destination:
 *
 * - 12025550101: accepted, DELIVRD receipt after `receiptDelayMs.delivered`.
 * - 12025550102: accepted, UNDELIV receipt (err:001) after `receiptDelayMs.undeliverable`.
 * - 12025550103: accepted, no receipt.
 * - 12025550104: rejected with ESME_RINVDSTADR.
 * - 12025550105: ESME_RTHROTTLED for the first two submits, then accepted and delivered; the
 *   count starts again once a message (its last part, when concatenated) was accepted.
 * - any other destination: accepted and delivered.
 *
 * A leading `+` on the destination is ignored. Message ids are returned in `submit_sm_resp` as
 * upper-case hex and written in decimal in the receipt text; every second receipt also carries
 * the `receipted_message_id` TLV (hex), so clients must match ids across both forms. Each part
 * of a concatenated message gets its own id and receipt. Receipts go to the submitting session,
 * else to another bound receiver or transceiver of the same system_id, else wait for the next
 * such bind. A receipt the ESME rejects with an error status is sent again after a second,
 * up to 10 sends in all.
 *
 * Options for receipt hard cases: `receiptBeforeResponse` sends the receipt before the
 * `submit_sm_resp`, `duplicateReceipts` sends each receipt twice, and `holdReceipts` keeps
 * receipts until the caller releases them with `releaseReceipts`.
 *
 * @example
 * const smsc = await startSandboxSmsc({ logger });
 * const channel = new SmsChannel({ url: smsc.url, sourceAddr: 'Cascade', logger });
 */
export async function startSandboxSmsc(options: SandboxSmscOptions): Promise<SandboxSmsc> {
  const smsc = new SandboxSmscServer(options);
  await smsc.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return smsc;
}

class SandboxSmscServer implements SandboxSmsc {
  host = '';
  port = 0;
  url = '';
  readonly #options: SandboxSmscOptions;
  readonly #logger: Logger;
  readonly #receiptDelayMs: { delivered: number; undeliverable: number };
  readonly #server = smpp.createServer((session) => this.#onSession(session));
  readonly #sessions = new Set<SessionState>();
  readonly #records: SubmitRecord[] = [];
  readonly #waiters = new Set<SubmitWaiter>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Receipts for a system_id that had no bound receiver when they were due. */
  readonly #queued = new Map<string, QueuedReceipt[]>();
  /** Receipts kept by `holdReceipts`, oldest first. */
  readonly #held: QueuedReceipt[] = [];
  readonly #recipients = new TestRecipients();
  #queuedCount = 0;
  #sessionCount = 0;
  #receiptCount = 0;
  #nextMessageId: number;

  constructor(options: SandboxSmscOptions) {
    this.#options = options;
    this.#nextMessageId = options.firstMessageId ?? randomInt(0x1_0000_0000, 0xf_0000_0000);
    this.#logger = options.logger;
    this.#receiptDelayMs = {
      delivered: options.receiptDelayMs?.delivered ?? 300,
      undeliverable: options.receiptDelayMs?.undeliverable ?? 1_000,
    };
    if (options.holdReceipts === true && options.receiptBeforeResponse === true) {
      throw new Error('Invalid sandbox SMSC options: holdReceipts and receiptBeforeResponse cannot both be set, so set at most one.');
    }
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#server.on('error', (error: Error) => this.#logger.error({ err: error }, 'sandbox SMSC server error'));

    const address = this.#server.address() as AddressInfo;
    this.host = host;
    this.port = address.port;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const systemId = encodeURIComponent(this.#options.systemId ?? 'sandbox');
    const password = encodeURIComponent(this.#options.password ?? 'sandbox');
    this.url = `smpp://${systemId}:${password}@${urlHost}:${this.port}`;
    this.#logger.info({ host, port: this.port }, 'sandbox SMSC listening');
  }

  submits(): SubmitRecord[] {
    return [...this.#records];
  }

  waitForSubmit(predicate: (record: SubmitRecord) => boolean, timeoutMs = 10_000): Promise<SubmitRecord> {
    const existing = this.#records.find(predicate);
    if (existing !== undefined) {
      return Promise.resolve(existing);
    }
    return new Promise<SubmitRecord>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter.reject(new Error(`No submit_sm matching the predicate arrived within ${timeoutMs} ms.`));
      }, timeoutMs);
      const waiter: SubmitWaiter = {
        predicate,
        resolve: (record) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(record);
        },
        reject: (error) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  queuedReceipts(): number {
    return this.#queuedCount;
  }

  heldReceipts(): number {
    return this.#held.length;
  }

  releaseReceipts(count?: number): number {
    const released = this.#held.splice(0, count ?? this.#held.length);
    const now = Date.now();
    for (const queued of released) {
      queued.receipt.doneAt = now;
      this.#dispatchReceipt(queued);
    }
    this.#logger.debug({ released: released.length, held: this.#held.length }, 'sandbox SMSC released held receipts');
    return released.length;
  }

  dropConnections(): void {
    this.#logger.info({ connections: this.#sessions.size }, 'sandbox SMSC dropping every connection');
    for (const state of this.#sessions) {
      state.session.destroy();
    }
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) {
      clearTimeout(timer);
    }
    this.#timers.clear();
    this.#held.length = 0;
    for (const waiter of this.#waiters) {
      waiter.reject(new Error('The sandbox SMSC closed before a matching submit_sm arrived.'));
    }
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const state of this.#sessions) {
      state.session.destroy();
    }
    await closed;
    this.#logger.info({ port: this.port }, 'sandbox SMSC stopped');
  }

  #onSession(session: SmppSession): void {
    const state: SessionState = { id: ++this.#sessionCount, session, systemId: null, bindType: null, awaitingResponse: new Map() };
    this.#sessions.add(state);
    this.#logger.debug({ sessionId: state.id }, 'sandbox SMSC connection opened');

    session.on('error', (error: Error) => {
      this.#logger.warn({ sessionId: state.id, err: error }, 'sandbox SMSC connection error');
      session.destroy();
    });
    session.on('close', () => this.#onSessionClosed(state));
    session.on('pdu', (pdu: Pdu) => this.#onPdu(state, pdu));
  }

  #onSessionClosed(state: SessionState): void {
    this.#sessions.delete(state);
    this.#logger.info({ sessionId: state.id, systemId: state.systemId }, 'sandbox SMSC connection closed');
    const unanswered = [...state.awaitingResponse.values()];
    state.awaitingResponse.clear();
    state.bindType = null;
    for (const queued of unanswered) {
      this.#sendReceipt(queued);
    }
  }

  #onPdu(state: SessionState, pdu: Pdu): void {
    if (pdu.isResponse()) {
      if (pdu.command === 'deliver_sm_resp' || pdu.command === 'generic_nack') {
        this.#onReceiptResponse(state, pdu);
      }
      return;
    }
    switch (pdu.command) {
      case 'bind_transceiver':
        this.#onBind(state, pdu, 'transceiver');
        return;
      case 'bind_transmitter':
        this.#onBind(state, pdu, 'transmitter');
        return;
      case 'bind_receiver':
        this.#onBind(state, pdu, 'receiver');
        return;
      case 'enquire_link':
        state.session.send(pdu.response());
        return;
      case 'unbind':
        this.#logger.info({ sessionId: state.id, systemId: state.systemId }, 'sandbox SMSC unbind');
        state.bindType = null;
        state.session.send(pdu.response(), () => state.session.close());
        return;
      case 'submit_sm':
        this.#onSubmit(state, pdu);
        return;
      default:
        state.session.send(genericNack(pdu, CommandStatus.ESME_RINVCMDID));
    }
  }

  #onBind(state: SessionState, pdu: Pdu, bindType: BindType): void {
    const systemId = readString(pdu, 'system_id') ?? '';
    let status: number = CommandStatus.ESME_ROK;
    if (state.bindType !== null) {
      status = CommandStatus.ESME_RALYBND;
    } else if (this.#options.systemId !== undefined && systemId !== this.#options.systemId) {
      status = CommandStatus.ESME_RINVSYSID;
    } else if (this.#options.password !== undefined && readString(pdu, 'password') !== this.#options.password) {
      status = CommandStatus.ESME_RINVPASWD;
    }

    if (status !== CommandStatus.ESME_ROK) {
      this.#logger.warn({ sessionId: state.id, systemId, commandStatus: describeCommandStatus(status) }, 'sandbox SMSC rejected bind');
      state.session.send(pdu.response({ command_status: status }));
      return;
    }
    state.systemId = systemId;
    state.bindType = bindType;
    state.session.send(pdu.response({ system_id: 'cascade-sandbox' }));
    this.#logger.info({ sessionId: state.id, systemId, bindType }, 'sandbox SMSC bound');
    if (bindType !== 'transmitter') {
      this.#flushQueued(systemId);
    }
  }

  #onSubmit(state: SessionState, pdu: Pdu): void {
    if (state.bindType !== 'transceiver' && state.bindType !== 'transmitter') {
      state.session.send(pdu.response({ command_status: CommandStatus.ESME_RINVBNDSTS }));
      return;
    }

    const destination = readString(pdu, 'destination_addr') ?? '';
    const shortMessage = readBuffer(pdu, 'short_message') ?? Buffer.alloc(0);
    const dataCoding = readNumber(pdu, 'data_coding') ?? 0;
    const esmClass = readNumber(pdu, 'esm_class') ?? 0;
    const registeredDelivery = readNumber(pdu, 'registered_delivery') ?? 0;
    const digits = destination.replace(/^\+/, '');
    const behaviour = this.#recipients.behaviourFor(digits);

    let text = '';
    let concat: ConcatInfo | null = null;
    let status: number = CommandStatus.ESME_ROK;
    try {
      ({ text, concat } = decodeSms(shortMessage, dataCoding, esmClass));
    } catch (error) {
      this.#logger.warn({ sessionId: state.id, err: error }, 'sandbox SMSC could not decode short_message');
      status = ESME_RINVDCS;
    }
    if (status === CommandStatus.ESME_ROK) {
      status = this.#recipients.submitStatus(digits, behaviour, concat);
    }

    const accepted = status === CommandStatus.ESME_ROK;
    const messageId = accepted ? this.#allocateMessageId() : null;
    const record: SubmitRecord = {
      messageId: messageId === null ? null : messageId.toString(16).toUpperCase(),
      commandStatus: status,
      accepted,
      systemId: state.systemId ?? '',
      source: readString(pdu, 'source_addr') ?? '',
      sourceTon: readNumber(pdu, 'source_addr_ton') ?? 0,
      sourceNpi: readNumber(pdu, 'source_addr_npi') ?? 0,
      destination,
      destinationTon: readNumber(pdu, 'dest_addr_ton') ?? 0,
      destinationNpi: readNumber(pdu, 'dest_addr_npi') ?? 0,
      text,
      shortMessage,
      dataCoding,
      esmClass,
      concat,
      registeredDelivery,
      receivedAt: Date.now(),
    };

    const response = accepted ? pdu.response({ message_id: record.messageId }) : pdu.response({ command_status: status });
    const outcome = messageId === null ? null : receiptOutcome(behaviour, record.registeredDelivery);
    if (messageId !== null && outcome !== null && this.#options.receiptBeforeResponse === true) {
      this.#addRecord(record);
      this.#respondAfterReceipt(state, response, record, messageId, outcome);
      return;
    }

    this.#sendResponse(state, response);
    this.#logSubmit(state, record, concat);
    this.#addRecord(record);

    if (messageId !== null && outcome !== null) {
      this.#scheduleReceipt(state, record, messageId, outcome);
    }
  }

  #sendResponse(state: SessionState, response: Parameters<SessionState['session']['send']>[0]): void {
    const delay = this.#options.responseDelayMs ?? 0;
    if (delay <= 0) {
      state.session.send(response);
      return;
    }
    setTimeout(() => {
      // The ESME may have gone meanwhile; its submit then stays unanswered, as with a real SMSC.
      if (this.#sessions.has(state)) state.session.send(response);
    }, delay).unref();
  }

  #logSubmit(state: SessionState, record: SubmitRecord, concat: ConcatInfo | null): void {
    this.#logger.debug(
      {
        sessionId: state.id,
        messageId: record.messageId,
        commandStatus: describeCommandStatus(record.commandStatus),
        part: concat?.sequence,
        parts: concat?.total,
      },
      'sandbox SMSC submit_sm',
    );
  }

  /**
   * Sends the receipt of an accepted submit at once, and its `submit_sm_resp` once the ESME has
   * responded to the receipt or after `MAX_RESPONSE_DELAY_MS`, whichever comes first.
   */
  #respondAfterReceipt(state: SessionState, response: Pdu, record: SubmitRecord, messageId: number, outcome: SandboxReceiptOutcome): void {
    let responded = false;
    const respond = (): void => {
      if (responded) return;
      responded = true;
      state.session.send(response);
      this.#logSubmit(state, record, record.concat);
    };
    const queued = this.#newReceipt(state, record, messageId, outcome, 0);
    queued.onResponse = respond;
    this.#after(MAX_RESPONSE_DELAY_MS, respond);
    this.#dispatchReceipt(queued);
  }

  #allocateMessageId(): number {
    const id = this.#nextMessageId;
    this.#nextMessageId += 1;
    return id;
  }

  #addRecord(record: SubmitRecord): void {
    this.#records.push(record);
    // Trim in batches so that a full buffer does not shift 100 000 entries on every submit.
    if (this.#records.length > MAX_RECORDS + 1_000) {
      this.#records.splice(0, this.#records.length - MAX_RECORDS);
    }
    for (const waiter of this.#waiters) {
      if (waiter.predicate(record)) {
        waiter.resolve(record);
      }
    }
  }

  /** Sends the receipt after its delay, or keeps it for `releaseReceipts` when `holdReceipts` is set. */
  #scheduleReceipt(origin: SessionState, record: SubmitRecord, messageId: number, outcome: SandboxReceiptOutcome): void {
    if (this.#options.holdReceipts === true) {
      this.#held.push(this.#newReceipt(origin, record, messageId, outcome, 0));
      return;
    }
    const delayMs = outcome === 'delivered' ? this.#receiptDelayMs.delivered : this.#receiptDelayMs.undeliverable;
    const queued = this.#newReceipt(origin, record, messageId, outcome, delayMs);
    this.#after(delayMs, () => this.#dispatchReceipt(queued));
  }

  #newReceipt(origin: SessionState, record: SubmitRecord, messageId: number, outcome: SandboxReceiptOutcome, delayMs: number): QueuedReceipt {
    this.#receiptCount += 1;
    const receipt: SandboxReceipt = {
      messageIdHex: messageId.toString(16).toUpperCase(),
      messageIdDecimal: messageId.toString(10),
      outcome,
      handset: record.destination.replace(/^\+/, ''),
      esmeAddress: record.source,
      text: record.text,
      submittedAt: record.receivedAt,
      doneAt: record.receivedAt + delayMs,
      withTlvs: this.#receiptCount % 2 === 0,
    };
    return { receipt, systemId: record.systemId, origin, attempts: 0 };
  }

  /** Sends a receipt that has become due, and a copy of it when `duplicateReceipts` is set. */
  #dispatchReceipt(queued: QueuedReceipt): void {
    this.#sendReceipt(queued);
    if (this.#options.duplicateReceipts === true) {
      const receipt = this.#options.duplicateInOtherIdForm === true ? { ...queued.receipt, withTlvs: !queued.receipt.withTlvs } : queued.receipt;
      this.#sendReceipt({ receipt, systemId: queued.systemId, origin: queued.origin, attempts: 0 });
    }
  }

  /** Sends a receipt to the submitting session, else to another receiving session of the system_id, else queues it. */
  #sendReceipt(queued: QueuedReceipt): void {
    const target = this.#receivingSession(queued);
    if (target === null) {
      this.#queue(queued);
      return;
    }
    const pdu = buildReceiptPdu(queued.receipt);
    queued.attempts += 1;
    if (!target.session.send(pdu)) {
      this.#queue(queued);
      return;
    }
    target.awaitingResponse.set(pdu.sequence_number, queued);
    this.#logger.debug(
      { sessionId: target.id, messageId: queued.receipt.messageIdHex, outcome: queued.receipt.outcome, attempt: queued.attempts },
      'sandbox SMSC sent receipt',
    );
  }

  #onReceiptResponse(state: SessionState, response: Pdu): void {
    const queued = state.awaitingResponse.get(response.sequence_number);
    if (queued === undefined) {
      return;
    }
    state.awaitingResponse.delete(response.sequence_number);
    queued.onResponse?.();
    if (response.command_status === CommandStatus.ESME_ROK) {
      return;
    }
    if (queued.attempts >= MAX_RECEIPT_ATTEMPTS) {
      this.#logger.warn(
        { sessionId: state.id, messageId: queued.receipt.messageIdHex, attempts: queued.attempts },
        'sandbox SMSC dropped a receipt the ESME kept rejecting',
      );
      return;
    }
    this.#logger.info(
      { sessionId: state.id, messageId: queued.receipt.messageIdHex, commandStatus: describeCommandStatus(response.command_status) },
      'sandbox SMSC receipt rejected by the ESME; sending it again',
    );
    this.#after(RECEIPT_RETRY_DELAY_MS, () => this.#sendReceipt(queued));
  }

  #receivingSession(queued: QueuedReceipt): SessionState | null {
    const receives = (state: SessionState): boolean =>
      state.systemId === queued.systemId && (state.bindType === 'transceiver' || state.bindType === 'receiver');
    if (this.#sessions.has(queued.origin) && receives(queued.origin)) {
      return queued.origin;
    }
    for (const state of this.#sessions) {
      if (receives(state)) {
        return state;
      }
    }
    return null;
  }

  #queue(queued: QueuedReceipt): void {
    if (this.#queuedCount >= MAX_QUEUED_RECEIPTS) {
      this.#logger.warn({ messageId: queued.receipt.messageIdHex }, 'sandbox SMSC receipt queue full; receipt dropped');
      return;
    }
    const list = this.#queued.get(queued.systemId) ?? [];
    list.push(queued);
    this.#queued.set(queued.systemId, list);
    this.#queuedCount += 1;
    this.#logger.debug({ messageId: queued.receipt.messageIdHex, systemId: queued.systemId }, 'sandbox SMSC queued receipt until the next bind');
  }

  #flushQueued(systemId: string): void {
    const list = this.#queued.get(systemId);
    if (list === undefined) {
      return;
    }
    this.#queued.delete(systemId);
    this.#queuedCount -= list.length;
    for (const queued of list) {
      this.#sendReceipt(queued);
    }
  }

  #after(delayMs: number, callback: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, delayMs);
    this.#timers.add(timer);
  }
}

/**
 * Returns the outcome of the receipt an accepted submit gets, or null when it gets none: the
 * recipient sends none, or `registered_delivery` does not request one for that outcome.
 */
function receiptOutcome(behaviour: RecipientBehaviour, registeredDelivery: number): SandboxReceiptOutcome | null {
  if (behaviour.kind === 'no-receipt' || behaviour.kind === 'reject') {
    return null;
  }
  const outcome = behaviour.kind === 'receipt' ? behaviour.outcome : 'delivered';
  const requested = registeredDelivery & 0x03;
  // 1: a receipt for every final outcome; 2: for failures only.
  if (requested !== 1 && !(requested === 2 && outcome === 'undeliverable')) {
    return null;
  }
  return outcome;
}
