import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeSms } from '../src/channels/sms/encoding.js';
import { messageIdKeys, parseDeliveryReceipt } from '../src/channels/sms/receipt.js';
import { SmppBindError, SmppClient, type DeliverSm, type SubmitRequest } from '../src/channels/sms/smpp-client.js';
import { formatReceiptDate } from '../src/sandbox/smsc-receipt.js';
import { startSandboxSmsc, type SandboxSmsc, type SandboxSmscOptions } from '../src/sandbox/smsc.js';

const silent = pino({ level: 'silent' });
const WAIT = { timeout: 10_000, interval: 20 };

function submitTo(destination: string, text = 'sandbox test', registeredDelivery = true): SubmitRequest {
  const part = encodeSms(text, { allowUnicode: true, reference: 1 }).parts[0];
  if (part === undefined) throw new Error('encodeSms returned no part');
  return { source: 'Cascade', sourceTon: 5, sourceNpi: 0, destination, part, registeredDelivery };
}

describe('sandbox SMSC', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function sandbox(options: Partial<SandboxSmscOptions> = {}): Promise<SandboxSmsc> {
    const smsc = await startSandboxSmsc({ logger: silent, receiptDelayMs: { delivered: 30, undeliverable: 30 }, ...options });
    cleanups.push(() => smsc.close());
    return smsc;
  }

  /** Binds a client to `smsc` and collects the deliver_sm PDUs it receives. */
  async function bind(smsc: SandboxSmsc, closeAfterTest = true): Promise<{ client: SmppClient; delivered: DeliverSm[] }> {
    const client = SmppClient.fromUrl(smsc.url, { logger: silent, reconnectMinMs: 20 });
    if (closeAfterTest) cleanups.push(() => client.close());
    const delivered: DeliverSm[] = [];
    client.onDeliver((pdu) => {
      delivered.push(pdu);
    });
    await client.connect();
    return { client, delivered };
  }

  /** Finds the receipt among `delivered` for the message `submit_sm_resp` called `messageId`. */
  function receiptFor(delivered: DeliverSm[], messageId: string | null): DeliverSm | undefined {
    const keys = messageIdKeys(messageId ?? '');
    return delivered.find((pdu) => messageIdKeys(parseDeliveryReceipt(pdu)?.messageId ?? '').some((key) => keys.includes(key)));
  }

  it('returns hex ids, receipts use decimal', async () => {
    const smsc = await sandbox();
    const { client, delivered } = await bind(smsc);

    const first = await client.submit(submitTo('12025550101', 'first message'));
    const second = await client.submit(submitTo('12025550101', 'second message'));

    await vi.waitFor(() => expect(delivered).toHaveLength(2), WAIT);
    for (const result of [first, second]) {
      expect(result.messageId).toMatch(/^[0-9A-F]+$/);
    }
    const texts = delivered.map((pdu) => pdu.short_message.toString('ascii'));
    const decimalIds = [first, second].map((result) => BigInt(`0x${result.messageId ?? ''}`).toString(10));
    expect(texts[0]).toMatch(new RegExp(`^id:${decimalIds[0]} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:first message$`));
    expect(texts[1]).toContain(`id:${decimalIds[1]} `);
    // Every second receipt also carries the TLVs, with the id in hex.
    expect(delivered[0]?.receipted_message_id).toBeUndefined();
    expect(delivered[1]?.receipted_message_id).toBe(second.messageId);
    expect(delivered[1]?.message_state).toBe(2);
    expect(delivered.every((pdu) => pdu.esm_class === 0x04 && pdu.data_coding === 0x00)).toBe(true);
  });

  it('sends UNDELIV with err:001 for 12025550102', async () => {
    const smsc = await sandbox();
    const { client, delivered } = await bind(smsc);

    const result = await client.submit(submitTo('12025550102'));

    await vi.waitFor(() => expect(delivered).toHaveLength(1), WAIT);
    const text = delivered[0]?.short_message.toString('ascii') ?? '';
    expect(text).toContain(`id:${BigInt(`0x${result.messageId ?? ''}`).toString(10)} `);
    expect(text).toContain('dlvrd:000');
    expect(text).toContain('stat:UNDELIV err:001');
  });

  it('sends no receipt when none is due', async () => {
    const smsc = await sandbox();
    const { client, delivered } = await bind(smsc);

    const silentRecipient = await client.submit(submitTo('12025550103'));
    const notRequested = await client.submit(submitTo('12025550101', 'no receipt wanted', false));
    const requested = await client.submit(submitTo('12025550101', 'receipt wanted'));

    // Receipts with the same delay leave in submit order, so earlier receipts would come first.
    await vi.waitFor(() => expect(receiptFor(delivered, requested.messageId)).toBeDefined(), WAIT);
    expect(silentRecipient.commandStatus).toBe(0);
    expect(notRequested.commandStatus).toBe(0);
    expect(delivered).toHaveLength(1);
  });

  it('rejects 12025550104 with or without a leading +', async () => {
    const smsc = await sandbox();
    const { client } = await bind(smsc);

    const plain = await client.submit(submitTo('12025550104'));
    const plus = await client.submit(submitTo('+12025550104'));

    expect(plain).toEqual({ commandStatus: 0x0b, messageId: null });
    expect(plus).toEqual({ commandStatus: 0x0b, messageId: null });
    expect(smsc.submits().map((record) => record.accepted)).toEqual([false, false]);
  });

  it('throttles 12025550105 twice per message', async () => {
    const smsc = await sandbox();
    const { client } = await bind(smsc);

    const statuses: number[] = [];
    for (let index = 0; index < 6; index += 1) {
      statuses.push((await client.submit(submitTo('12025550105'))).commandStatus);
    }

    expect(statuses).toEqual([0x58, 0x58, 0, 0x58, 0x58, 0]);
  });

  it('queues a receipt until the system_id binds again', async () => {
    const smsc = await sandbox({ receiptDelayMs: { delivered: 300, undeliverable: 300 } });
    const first = await bind(smsc, false);
    const result = await first.client.submit(submitTo('12025550101'));
    await first.client.close();

    await vi.waitFor(() => expect(smsc.queuedReceipts()).toBe(1), WAIT);
    const second = await bind(smsc);

    await vi.waitFor(() => expect(second.delivered).toHaveLength(1), WAIT);
    expect(second.delivered[0]?.short_message.toString('ascii')).toContain(`id:${BigInt(`0x${result.messageId ?? ''}`).toString(10)} `);
    expect(smsc.queuedReceipts()).toBe(0);
    expect(first.delivered).toHaveLength(0);
  });

  it('reroutes a receipt to another session', async () => {
    const smsc = await sandbox({ receiptDelayMs: { delivered: 300, undeliverable: 300 } });
    const submitter = await bind(smsc, false);
    const other = await bind(smsc);

    await submitter.client.submit(submitTo('12025550101'));
    await submitter.client.close();

    await vi.waitFor(() => expect(other.delivered).toHaveLength(1), WAIT);
    expect(submitter.delivered).toHaveLength(0);
  });

  it('records one id per concatenated part', async () => {
    const smsc = await sandbox();
    const { client, delivered } = await bind(smsc);
    const sms = encodeSms('x'.repeat(200), { allowUnicode: true, reference: 42 });

    const ids: Array<string | null> = [];
    for (const part of sms.parts) {
      ids.push((await client.submit({ ...submitTo('12025550123'), part })).messageId);
    }

    expect(new Set(ids).size).toBe(2);
    expect(smsc.submits().map((record) => record.concat)).toEqual([
      { reference: 42, total: 2, sequence: 1 },
      { reference: 42, total: 2, sequence: 2 },
    ]);
    await vi.waitFor(() => expect(delivered).toHaveLength(2), WAIT);
  });

  it('rejects a bind with another system_id', async () => {
    const smsc = await sandbox({ systemId: 'acme', password: 'pw' });
    const client = new SmppClient({ host: '127.0.0.1', port: smsc.port, systemId: 'other', password: 'pw', logger: silent });
    cleanups.push(() => client.close());

    const error = await client.connect().then(
      () => null,
      (reason: unknown) => reason,
    );

    expect(error).toBeInstanceOf(SmppBindError);
    expect((error as SmppBindError).commandStatus).toBe(0x0f);
  });

  it('builds its URL from the credentials', async () => {
    const smsc = await sandbox({ systemId: 'a b', password: 'p@ss' });

    expect(smsc.url).toBe(`smpp://a%20b:p%40ss@127.0.0.1:${smsc.port}`);
  });

  it('listens on IPv6 loopback', async () => {
    const smsc = await sandbox({ host: '::1' });
    const { client } = await bind(smsc);

    const result = await client.submit(submitTo('12025550103'));

    expect(smsc.url).toBe(`smpp://sandbox:sandbox@[::1]:${smsc.port}`);
    expect(result.commandStatus).toBe(0);
  });

  it('rejects waitForSubmit after its timeout', async () => {
    const smsc = await sandbox();

    await expect(smsc.waitForSubmit(() => true, 50)).rejects.toThrow(/No submit_sm matching/);
  });

  it('formats receipt dates as YYMMDDhhmm in UTC', () => {
    expect(formatReceiptDate(Date.UTC(2025, 0, 31, 9, 5, 59))).toBe('2501310905');
  });
});
