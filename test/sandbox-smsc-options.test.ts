import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeSms } from '../src/channels/sms/encoding.js';
import { messageIdKeys, parseDeliveryReceipt } from '../src/channels/sms/receipt.js';
import { SmppClient, type DeliverSm, type SubmitRequest } from '../src/channels/sms/smpp-client.js';
import { startSandboxSmsc, type SandboxSmsc, type SandboxSmscOptions } from '../src/sandbox/smsc.js';

const silent = pino({ level: 'silent' });
const WAIT = { timeout: 10_000, interval: 20 };

function submitTo(destination: string, text = 'option test'): SubmitRequest {
  const part = encodeSms(text, { allowUnicode: true, reference: 1 }).parts[0];
  if (part === undefined) throw new Error('encodeSms returned no part');
  return { source: 'Cascade', sourceTon: 5, sourceNpi: 0, destination, part, registeredDelivery: true };
}

/** Returns whether a receipt names `messageId`, in hex or in decimal. */
function names(pdu: DeliverSm, messageId: string | null): boolean {
  const keys = messageIdKeys(messageId ?? '');
  return messageIdKeys(parseDeliveryReceipt(pdu)?.messageId ?? '').some((key) => keys.includes(key));
}

describe('sandbox SMSC receipt options', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function sandbox(options: Partial<SandboxSmscOptions>): Promise<SandboxSmsc> {
    const smsc = await startSandboxSmsc({ logger: silent, receiptDelayMs: { delivered: 30, undeliverable: 30 }, ...options });
    cleanups.push(() => smsc.close());
    return smsc;
  }

  async function bind(smsc: SandboxSmsc): Promise<{ client: SmppClient; delivered: DeliverSm[] }> {
    const client = SmppClient.fromUrl(smsc.url, { logger: silent });
    cleanups.push(() => client.close());
    const delivered: DeliverSm[] = [];
    client.onDeliver((pdu) => {
      delivered.push(pdu);
    });
    await client.connect();
    return { client, delivered };
  }

  it('sends receipt before submit_sm_resp', async () => {
    const smsc = await sandbox({ receiptBeforeResponse: true });
    const { client, delivered } = await bind(smsc);

    const result = await client.submit(submitTo('12025550101'));

    // The client responded to the receipt before the SMSC sent submit_sm_resp, so the receipt is here already.
    expect(delivered).toHaveLength(1);
    expect(names(delivered[0]!, result.messageId)).toBe(true);
    expect(delivered[0]!.short_message.toString('ascii')).toContain('stat:DELIVRD');
  });

  it('sends no early receipt for 12025550103', async () => {
    const smsc = await sandbox({ receiptBeforeResponse: true });
    const { client, delivered } = await bind(smsc);

    const silentRecipient = await client.submit(submitTo('12025550103'));
    const rejected = await client.submit(submitTo('12025550104'));

    expect(silentRecipient.commandStatus).toBe(0);
    expect(rejected.commandStatus).toBe(0x0b);
    expect(delivered).toHaveLength(0);
  });

  it('sends every receipt twice', async () => {
    const smsc = await sandbox({ duplicateReceipts: true });
    const { client, delivered } = await bind(smsc);

    const result = await client.submit(submitTo('12025550102'));

    await vi.waitFor(() => expect(delivered).toHaveLength(2), WAIT);
    expect(delivered.every((pdu) => names(pdu, result.messageId))).toBe(true);
    expect(delivered[1]!.short_message.toString('ascii')).toBe(delivered[0]!.short_message.toString('ascii'));
    expect(delivered[1]!.receipted_message_id).toBe(delivered[0]!.receipted_message_id);
  });

  it('sends copy in other id form', async () => {
    const smsc = await sandbox({ duplicateReceipts: true, duplicateInOtherIdForm: true });
    const { client, delivered } = await bind(smsc);

    const result = await client.submit(submitTo('12025550101'));

    await vi.waitFor(() => expect(delivered).toHaveLength(2), WAIT);
    expect(delivered.every((pdu) => names(pdu, result.messageId))).toBe(true);
    const tlvIds = delivered.map((pdu) => pdu.receipted_message_id ?? null);
    expect(tlvIds.filter((id) => id === result.messageId)).toHaveLength(1);
    expect(tlvIds.filter((id) => id === null)).toHaveLength(1);
  });

  it('holds receipts until released', async () => {
    const smsc = await sandbox({ holdReceipts: true });
    const { client, delivered } = await bind(smsc);

    const first = await client.submit(submitTo('12025550101', 'first'));
    const second = await client.submit(submitTo('12025550102', 'second'));
    expect(smsc.heldReceipts()).toBe(2);

    expect(smsc.releaseReceipts(1)).toBe(1);
    await vi.waitFor(() => expect(delivered).toHaveLength(1), WAIT);
    expect(names(delivered[0]!, first.messageId)).toBe(true);
    expect(smsc.heldReceipts()).toBe(1);

    expect(smsc.releaseReceipts()).toBe(1);
    await vi.waitFor(() => expect(delivered).toHaveLength(2), WAIT);
    expect(names(delivered[1]!, second.messageId)).toBe(true);
    expect(smsc.heldReceipts()).toBe(0);
    expect(smsc.releaseReceipts()).toBe(0);
  });

  it('rejects hold with early receipts', async () => {
    await expect(startSandboxSmsc({ logger: silent, holdReceipts: true, receiptBeforeResponse: true })).rejects.toThrow(
      /holdReceipts and receiptBeforeResponse cannot both be set/,
    );
  });
});
