import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SmsChannel } from '../../src/channels/sms/index.js';
import { Delivery } from '../../src/delivery/index.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { acceptFirstStep, createOne, mustLoad, T0 } from '../store/fixtures.js';

const silent = pino({ level: 'silent' });

describe('receipt that races its send call', () => {
  let dir = '';
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-receipt-race-'));
    store = await openSqliteStore({ file: join(dir, 'cascade.sqlite') });
    await store.migrate();
  });

  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is applied when the attempt is recorded between lookup and insert', async () => {
    // Not started: the channel only computes match keys here.
    const sms = new SmsChannel({ url: 'smpp://cascade:secret@127.0.0.1:9', sourceAddr: 'ACME', logger: silent });
    const message = await createOne(store, { createdAt: T0 });
    const providerMessageId = '5A3F0C1B';
    const keys = sms.matchKeys(providerMessageId);

    // The send call of another connection records its attempt right after the receipt's first
    // lookup missed it, and looks for early receipts before the receipt is stored.
    let raced = false;
    const findAttemptByKeys: Store['findAttemptByKeys'] = async (...args) => {
      const found = await store.findAttemptByKeys(...args);
      if (!raced) {
        raced = true;
        await acceptFirstStep(store, message, [keys], T0 + 1_000);
        expect(await store.pendingReceipts('default', 'sms', keys)).toEqual([]);
      }
      return found;
    };
    const racing = new Proxy(store, {
      get(target, property) {
        if (property === 'findAttemptByKeys') return findAttemptByKeys;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const delivery = new Delivery({ store: racing, channels: new Map([['sms', sms]]), spaceId: 'default', logger: silent, clock: { now: () => T0 + 2_000 } });

    await delivery.receipts.receive(null, sms, { channel: 'sms', providerMessageId, state: 'delivered', errorCode: null, providerTimestamp: T0 + 1_500 });

    const loaded = await mustLoad(store, 'default', message.id);
    expect(raced).toBe(true);
    expect(loaded.state.steps[0]?.attempts[0]?.status).toBe('delivered');
    expect(loaded.state.status).toBe('delivered');
  });

  it('is applied by the sweep after its process stopped before applying it', async () => {
    const sms = new SmsChannel({ url: 'smpp://cascade:secret@127.0.0.1:9', sourceAddr: 'ACME', logger: silent });
    const message = await createOne(store, { createdAt: T0 });
    const providerMessageId = '5A3F0C1C';
    const keys = sms.matchKeys(providerMessageId);
    let now = T0 + 2_000;
    const delivery = new Delivery({ store, channels: new Map([['sms', sms]]), spaceId: 'default', logger: silent, clock: { now: () => now } });
    // The receipt arrived first and was stored; the process then recorded the attempt and stopped before it looked for stored receipts.
    await delivery.receipts.receive(null, sms, { channel: 'sms', providerMessageId, state: 'delivered', errorCode: null, providerTimestamp: T0 + 1_500 });
    await acceptFirstStep(store, message, [keys], T0 + 2_000);

    const tooEarly = await delivery.receipts.sweep(5_000);
    now += 5_001;
    const swept = await delivery.receipts.sweep(5_000);
    const again = await delivery.receipts.sweep(5_000);

    expect(tooEarly).toBe(0);
    expect(swept).toBe(1);
    expect(again).toBe(0);
    expect((await mustLoad(store, 'default', message.id)).state.status).toBe('delivered');
  });
});
