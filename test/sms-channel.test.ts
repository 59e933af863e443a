import { createServer, type AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHANNEL_TRAITS } from '../src/channels/catalog.js';
import { SmsChannel, type SmsChannelOptions } from '../src/channels/sms/index.js';
import { smppScheduleTime } from '../src/channels/sms/channel.js';
import type { ProviderReceipt, SendRequest } from '../src/channels/types.js';
import type { SendOutcome } from '../src/routing/types.js';
import { startSandboxSmsc, type SandboxSmsc, type SandboxSmscOptions } from '../src/sandbox/smsc.js';

const silent = pino({ level: 'silent' });
const WAIT = { timeout: 10_000, interval: 20 };
const FAST_RECEIPTS = { delivered: 30, undeliverable: 60 };

function request(address: string, body: string, extra: Partial<SendRequest['content']> = {}): SendRequest {
  return {
    messageId: 'msg-1',
    step: 0,
    attempt: 1,
    idempotencyKey: 'msg-1:0:1',
    address,
    content: { body, title: null, custom: null, options: null, ...extra },
  };
}

function accepted(outcome: SendOutcome): Extract<SendOutcome, { kind: 'accepted' }> {
  if (outcome.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Checks whether two provider ids name the same message by the channel's match keys. */
function sameMessage(channel: SmsChannel, left: string, right: string): boolean {
  const keys = channel.matchKeys(left);
  return channel.matchKeys(right).some((key) => keys.includes(key));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('SmsChannel', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function sandbox(options: Partial<SandboxSmscOptions> = {}): Promise<SandboxSmsc> {
    const smsc = await startSandboxSmsc({ logger: silent, receiptDelayMs: FAST_RECEIPTS, ...options });
    cleanups.push(() => smsc.close());
    return smsc;
  }

  /** Starts a channel on `smsc` and collects the receipts it reports. */
  async function channelOn(
    smsc: SandboxSmsc,
    options: Partial<SmsChannelOptions> = {},
  ): Promise<{ channel: SmsChannel; receipts: ProviderReceipt[]; waitForReceipt(providerMessageId: string): Promise<ProviderReceipt> }> {
    const channel = new SmsChannel({ url: smsc.url, sourceAddr: 'Cascade', logger: silent, ...options } as SmsChannelOptions);
    cleanups.push(() => channel.stop());
    const receipts: ProviderReceipt[] = [];
    channel.onReceipt((receipt) => {
      receipts.push(receipt);
    });
    await channel.start();
    const waitForReceipt = (providerMessageId: string) =>
      vi.waitFor(() => {
        const receipt = receipts.find((candidate) => sameMessage(channel, candidate.providerMessageId, providerMessageId));
        if (receipt === undefined) throw new Error(`no receipt for ${providerMessageId} yet`);
        return receipt;
      }, WAIT);
    return { channel, receipts, waitForReceipt };
  }

  it('agrees with the channel catalog', () => {
    const channel = new SmsChannel({ url: 'smpp://a:b@127.0.0.1:1', sourceAddr: 'Cascade', logger: silent });

    expect(channel.id).toBe('sms');
    expect(channel.defaultCondition).toBe(CHANNEL_TRAITS.sms.defaultCondition);
    expect(channel.supportedConditions).toEqual(CHANNEL_TRAITS.sms.supportedConditions);
  });

  it('delivers to 12025550101 with a receipt', async () => {
    const smsc = await sandbox();
    const { channel, waitForReceipt } = await channelOn(smsc);

    const outcome = accepted(await channel.send(request('+12025550101', 'Your parcel arrives today')));

    expect(outcome.partIds).toEqual([outcome.providerMessageId]);
    const receipt = await waitForReceipt(outcome.providerMessageId);
    expect(receipt.channel).toBe('sms');
    expect(receipt.state).toBe('delivered');
    expect(receipt.errorCode).toBeNull();
    expect(receipt.providerTimestamp).toEqual(expect.any(Number));
    const record = await smsc.waitForSubmit((submit) => submit.messageId === outcome.providerMessageId);
    expect(record.text).toBe('Your parcel arrives today');
    expect(record.destination).toBe('12025550101');
    expect(record.registeredDelivery).toBe(1);
  });

  it('reports a failed receipt for 12025550102', async () => {
    const smsc = await sandbox();
    const { channel, waitForReceipt } = await channelOn(smsc);

    const outcome = accepted(await channel.send(request('+12025550102', 'will not arrive')));

    const receipt = await waitForReceipt(outcome.providerMessageId);
    expect(receipt.state).toBe('failed');
    expect(receipt.errorCode).not.toBeNull();
  });

  it('returns permanent for 12025550104', async () => {
    const smsc = await sandbox();
    const { channel } = await channelOn(smsc);

    const outcome = await channel.send(request('+12025550104', 'invalid destination'));

    expect(outcome).toMatchObject({ kind: 'permanent', code: 'ESME_RINVDSTADR' });
  });

  it('throttles 12025550105 twice, then accepts', async () => {
    const smsc = await sandbox();
    const { channel, waitForReceipt } = await channelOn(smsc);

    const first = await channel.send(request('+12025550105', 'busy'));
    const second = await channel.send(request('+12025550105', 'busy'));
    const third = await channel.send(request('+12025550105', 'busy'));

    expect(first).toMatchObject({ kind: 'transient', code: 'ESME_RTHROTTLED' });
    expect(second).toMatchObject({ kind: 'transient', code: 'ESME_RTHROTTLED' });
    const outcome = accepted(third);
    expect((await waitForReceipt(outcome.providerMessageId)).state).toBe('delivered');
  });

  it('splits long UCS-2 text into parts', async () => {
    const smsc = await sandbox();
    const { channel, waitForReceipt } = await channelOn(smsc);
    const text = 'Доставка сегодня с 10:00 до 12:00. Спасибо! '.repeat(5);

    const outcome = accepted(await channel.send(request('+12025550123', text)));

    const partIds = outcome.partIds ?? [];
    expect(partIds.length).toBeGreaterThan(1);
    expect(partIds[0]).toBe(outcome.providerMessageId);
    const records = smsc.submits().filter((submit) => submit.messageId !== null && partIds.includes(submit.messageId));
    expect(records).toHaveLength(partIds.length);
    const reference = records[0]?.concat?.reference;
    records.forEach((record, index) => {
      expect(record.dataCoding).toBe(0x08);
      expect(record.esmClass & 0x40).toBe(0x40);
      expect(record.shortMessage.subarray(0, 3)).toEqual(Buffer.from([0x05, 0x00, 0x03]));
      expect(record.concat).toEqual({ reference, total: partIds.length, sequence: index + 1 });
    });
    expect(records.map((record) => record.text).join('')).toBe(text);

    for (const partId of partIds) {
      expect((await waitForReceipt(partId)).state).toBe('delivered');
    }
  });

  it('accepts a number without +', async () => {
    const smsc = await sandbox();
    const { channel, waitForReceipt } = await channelOn(smsc);

    const address = channel.resolveAddress({ phoneNumber: '12025550101' });
    expect(address).toBe('+12025550101');

    const outcome = accepted(await channel.send(request(address ?? '', 'no plus')));
    expect((await waitForReceipt(outcome.providerMessageId)).state).toBe('delivered');
  });

  it('resolves null for missing or invalid numbers', () => {
    const channel = new SmsChannel({ url: 'smpp://a:b@127.0.0.1:1', sourceAddr: 'Cascade', logger: silent });

    expect(channel.resolveAddress({})).toBeNull();
    expect(channel.resolveAddress({ phoneNumber: '' })).toBeNull();
    expect(channel.resolveAddress({ phoneNumber: 'not a number' })).toBeNull();
    expect(channel.resolveAddress({ phoneNumber: '+1202555' })).toBeNull();
    expect(channel.resolveAddress({ email: 'a@example.com' })).toBeNull();
  });

  it('reads national numbers with a region', () => {
    const channel = new SmsChannel({ url: 'smpp://a:b@127.0.0.1:1', sourceAddr: 'Cascade', defaultRegion: 'GB', logger: silent });

    expect(channel.resolveAddress({ phoneNumber: '020 7946 0018' })).toBe('+442079460018');
  });

  it('returns transient for a closed port', async () => {
    const channel = new SmsChannel({
      url: `smpp://a:b@127.0.0.1:${await freePort()}`,
      sourceAddr: 'Cascade',
      logger: silent,
      timing: { reconnectMinMs: 50 },
    });
    cleanups.push(() => channel.stop());

    await expect(channel.start()).rejects.toThrow(/Cannot reach the SMSC/);
    const outcome = await channel.send(request('+12025550101', 'nobody listens'));

    expect(outcome).toMatchObject({ kind: 'transient', code: 'smpp-not-bound' });
  });

  it('connects from an SMPP URL alone', async () => {
    const smsc = await startSandboxSmsc({ logger: silent, systemId: 'acme:sms', password: 'p@ss/w0rd', receiptDelayMs: FAST_RECEIPTS });
    cleanups.push(() => smsc.close());
    const url = `smpp://${encodeURIComponent('acme:sms')}:${encodeURIComponent('p@ss/w0rd')}@127.0.0.1:${smsc.port}`;
    const channel = new SmsChannel({ url, sourceAddr: 'ACME', logger: silent });
    cleanups.push(() => channel.stop());
    const receipts: ProviderReceipt[] = [];
    channel.onReceipt((receipt) => {
      receipts.push(receipt);
    });

    await channel.start();
    const outcome = accepted(await channel.send(request('+12025550101', 'from the URL')));

    const record = await smsc.waitForSubmit((submit) => submit.messageId === outcome.providerMessageId);
    expect(record.systemId).toBe('acme:sms');
    expect(record.source).toBe('ACME');
    await vi.waitFor(() => expect(receipts.some((receipt) => sameMessage(channel, receipt.providerMessageId, outcome.providerMessageId))).toBe(true), WAIT);
  });

  it('rejects start on a wrong password', async () => {
    const smsc = await sandbox({ systemId: 'acme', password: 'right' });
    const channel = new SmsChannel({ url: `smpp://acme:wrong@127.0.0.1:${smsc.port}`, sourceAddr: 'ACME', logger: silent });
    cleanups.push(() => channel.stop());

    await expect(channel.start()).rejects.toThrow(/ESME_RINVPASWD/);
  });

  it('uses the custom body and sender', async () => {
    const smsc = await sandbox();
    const { channel } = await channelOn(smsc);

    const outcome = accepted(
      await channel.send(request('+12025550103', 'generic body', { custom: { body: 'custom body', from: '+15005550006' } })),
    );

    const record = await smsc.waitForSubmit((submit) => submit.messageId === outcome.providerMessageId);
    expect(record.text).toBe('custom body');
    expect(record.source).toBe('15005550006');
    expect(record.sourceTon).toBe(1);
    expect(record.sourceNpi).toBe(1);
  });

  it('applies the from and allowUnicode options', async () => {
    const smsc = await sandbox();
    const { channel } = await channelOn(smsc);

    const outcome = accepted(
      await channel.send(request('+12025550103', 'Café ☕ ready', { options: { from: 'Shop', allowUnicode: false } })),
    );

    const record = await smsc.waitForSubmit((submit) => submit.messageId === outcome.providerMessageId);
    expect(record.source).toBe('Shop');
    expect(record.sourceTon).toBe(5);
    expect(record.dataCoding).toBe(0x00);
    expect(record.text).toBe('Café ? ready');
  });

  it('returns permanent for an invalid sender', async () => {
    const smsc = await sandbox();
    const { channel } = await channelOn(smsc);

    const outcome = await channel.send(request('+12025550101', 'hi', { custom: { from: 'A sender name that is too long' } }));

    expect(outcome).toMatchObject({ kind: 'permanent', code: 'invalid-source-address' });
    expect(smsc.submits()).toHaveLength(0);
  });

  it('receives a receipt again after a listener failure', async () => {
    const smsc = await sandbox();
    const channel = new SmsChannel({ url: smsc.url, sourceAddr: 'Cascade', logger: silent });
    cleanups.push(() => channel.stop());
    const seen: ProviderReceipt[] = [];
    channel.onReceipt((receipt) => {
      seen.push(receipt);
      if (seen.length === 1) throw new Error('store unavailable');
    });
    await channel.start();

    await channel.send(request('+12025550101', 'twice'));

    await vi.waitFor(() => expect(seen).toHaveLength(2), WAIT);
    expect(seen[1]).toEqual(seen[0]);
  });

  it('logs neither password nor body', async () => {
    const smsc = await startSandboxSmsc({ logger: silent, systemId: 'acme', password: 'Sekr3tPw', receiptDelayMs: FAST_RECEIPTS });
    cleanups.push(() => smsc.close());
    const lines: string[] = [];
    const logger: Logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const { channel, waitForReceipt } = await channelOn(smsc, { url: smsc.url, logger });
    const body = 'Confidential parcel code 7431';

    const outcome = accepted(await channel.send(request('+12025550101', body)));
    await waitForReceipt(outcome.providerMessageId);
    await channel.send(request('+12025550104', body));

    expect(lines.length).toBeGreaterThan(0);
    const output = lines.join('\n');
    expect(output).not.toContain('Sekr3tPw');
    expect(output).not.toContain('Confidential');
  });
});

describe('smppScheduleTime', () => {
  const now = Date.parse('2026-12-04T10:00:00Z');

  it('formats a future time in UTC', () => {
    expect(smppScheduleTime('2026-12-04T12:30:15+01:00', now)).toBe('261204113015000+');
  });

  it('sends at once for past or missing times', () => {
    expect(smppScheduleTime('2026-12-04T09:59:59Z', now)).toBeNull();
    expect(smppScheduleTime(null, now)).toBeNull();
    expect(smppScheduleTime('not a time', now)).toBeNull();
  });
});
