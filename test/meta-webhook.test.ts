import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_EVENTS_PER_BODY,
  parseMetaWebhook,
  verificationChallenge,
  type MetaWebhookItem,
} from '../src/channels/meta/webhook.js';

// Invented fixtures, shaped like the examples of Meta's webhook references. Phone numbers are
// US 555-01xx numbers, which are reserved for fiction; ids are made up.
const BUSINESS_ACCOUNT_ID = '800000000000001';
const PHONE_NUMBER_ID = '900000000000001';
const CUSTOMER = '12025550111';
const PAGE_ID = '700000000000001';
const PSID = '600000000000001';

/** 2026-01-01T00:00:00Z in Unix seconds, as WhatsApp writes it. */
const T0 = 1_767_225_600;

function whatsAppBody(value: Record<string, unknown>, field = 'messages'): unknown {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: BUSINESS_ACCOUNT_ID,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '12025550100', phone_number_id: PHONE_NUMBER_ID },
              ...value,
            },
            field,
          },
        ],
      },
    ],
  };
}

function status(id: string, state: string, secondsAfterT0: number, extra: Record<string, unknown> = {}): unknown {
  return { id, status: state, timestamp: String(T0 + secondsAfterT0), recipient_id: CUSTOMER, ...extra };
}

function messengerBody(...messaging: unknown[]): unknown {
  return { object: 'page', entry: [{ id: PAGE_ID, time: T0 * 1000, messaging }] };
}

function statusItem(id: string, state: string, secondsAfterT0: number): MetaWebhookItem {
  return {
    kind: 'status',
    channel: 'whatsApp',
    providerMessageId: id,
    state: state as 'sent',
    recipient: `+${CUSTOMER}`,
    timestamp: (T0 + secondsAfterT0) * 1000,
    errorCode: null,
    errorTitle: null,
    phoneNumberId: PHONE_NUMBER_ID,
  };
}

describe('parseMetaWebhook: WhatsApp statuses', () => {
  it.each(['sent', 'delivered', 'read'])('reads a %s status', (state) => {
    const parsed = parseMetaWebhook(whatsAppBody({ statuses: [status('wamid.TEST0001', state, 5)] }));

    expect(parsed.items).toEqual([statusItem('wamid.TEST0001', state, 5)]);
    expect(parsed.skipped).toEqual([]);
  });

  it('reads a failed status with its error', () => {
    const failed = status('wamid.TEST0002', 'failed', 9, {
      errors: [
        {
          code: 131026,
          title: 'Message undeliverable.',
          message: 'Message undeliverable.',
          error_data: { details: 'Message Undeliverable.' },
        },
      ],
    });

    const parsed = parseMetaWebhook(whatsAppBody({ statuses: [failed] }));

    expect(parsed.items).toEqual([
      { ...statusItem('wamid.TEST0002', 'failed', 9), errorCode: '131026', errorTitle: 'Message undeliverable.' },
    ]);
  });

  it('uses message when an error has no title', () => {
    const failed = status('wamid.TEST0003', 'failed', 9, {
      errors: [{ code: 131047, message: 'Re-engagement message' }],
    });

    const [item] = parseMetaWebhook(whatsAppBody({ statuses: [failed] })).items;

    expect(item).toMatchObject({ errorCode: '131047', errorTitle: 'Re-engagement message' });
  });

  it('reads a failed status without errors', () => {
    const [item] = parseMetaWebhook(whatsAppBody({ statuses: [status('wamid.TEST0004', 'failed', 1)] })).items;

    expect(item).toMatchObject({ state: 'failed', errorCode: null, errorTitle: null });
  });

  it('keeps out-of-order and duplicate statuses in body order', () => {
    const statuses = [
      status('wamid.TEST0010', 'read', 30),
      status('wamid.TEST0010', 'delivered', 20),
      status('wamid.TEST0010', 'delivered', 20),
      status('wamid.TEST0011', 'sent', 10),
      status('wamid.TEST0010', 'sent', 10),
    ];

    const parsed = parseMetaWebhook(whatsAppBody({ statuses }));

    expect(parsed.items).toEqual([
      statusItem('wamid.TEST0010', 'read', 30),
      statusItem('wamid.TEST0010', 'delivered', 20),
      statusItem('wamid.TEST0010', 'delivered', 20),
      statusItem('wamid.TEST0011', 'sent', 10),
      statusItem('wamid.TEST0010', 'sent', 10),
    ]);
  });

  it('reads every entry and change in order', () => {
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: BUSINESS_ACCOUNT_ID,
          changes: [
            { field: 'messages', value: { metadata: { phone_number_id: 'number-a' }, statuses: [status('wamid.A', 'sent', 1)] } },
            { field: 'messages', value: { metadata: { phone_number_id: 'number-b' }, statuses: [status('wamid.B', 'sent', 2)] } },
          ],
        },
        { id: '800000000000002', changes: [{ field: 'messages', value: { statuses: [status('wamid.C', 'read', 3)] } }] },
      ],
    };

    const items = parseMetaWebhook(body).items;

    expect(items.map((item) => (item.kind === 'status' ? [item.providerMessageId, item.phoneNumberId] : null))).toEqual([
      ['wamid.A', 'number-a'],
      ['wamid.B', 'number-b'],
      ['wamid.C', null],
    ]);
  });

  it('accepts recipient_id with a plus and numeric timestamps', () => {
    const parsed = parseMetaWebhook(
      whatsAppBody({ statuses: [{ id: 'wamid.TEST0020', status: 'sent', timestamp: T0, recipient_id: `+${CUSTOMER}` }] }),
    );

    expect(parsed.items).toEqual([statusItem('wamid.TEST0020', 'sent', 0)]);
  });

  it.each([
    ['an unknown status', { status: 'deleted' }, 'status "deleted" is not sent, delivered, read or failed'],
    ['a missing id', { id: undefined }, 'id is missing'],
    ['a missing recipient_id', { recipient_id: undefined }, 'recipient_id is missing or not a phone number'],
    ['a recipient_id that is no number', { recipient_id: 'group-abc' }, 'recipient_id is missing or not a phone number'],
    ['a timestamp in words', { timestamp: 'yesterday' }, 'timestamp is missing or not Unix seconds'],
    ['a zero timestamp', { timestamp: '0' }, 'timestamp is missing or not Unix seconds'],
  ])('skips a status with %s', (_case, change, reason) => {
    const bad = { ...(status('wamid.TEST0030', 'delivered', 1) as Record<string, unknown>), ...change };

    const parsed = parseMetaWebhook(whatsAppBody({ statuses: [bad, status('wamid.TEST0031', 'read', 2)] }));

    expect(parsed.items).toEqual([statusItem('wamid.TEST0031', 'read', 2)]);
    expect(parsed.skipped).toHaveLength(1);
    expect(parsed.skipped[0]).toContain('entry[0].changes[0].value.statuses[0]');
    expect(parsed.skipped[0]).toContain(reason);
  });
});

describe('parseMetaWebhook: WhatsApp messages', () => {
  it('reads an inbound text message', () => {
    const body = whatsAppBody({
      contacts: [{ profile: { name: 'Test Customer' }, wa_id: CUSTOMER }],
      messages: [
        { from: CUSTOMER, id: 'wamid.IN0001', timestamp: String(T0 + 60), type: 'text', text: { body: 'Is my order on its way?' } },
      ],
    });

    const parsed = parseMetaWebhook(body);

    expect(parsed.items).toEqual([
      {
        kind: 'inbound',
        channel: 'whatsApp',
        from: `+${CUSTOMER}`,
        providerMessageId: 'wamid.IN0001',
        timestamp: (T0 + 60) * 1000,
        text: 'Is my order on its way?',
      },
    ]);
    expect(parsed.skipped).toEqual([]);
  });

  it.each([
    ['image', { image: { id: 'media-0001', mime_type: 'image/jpeg', sha256: 'abc' } }],
    ['location', { location: { latitude: 38.9, longitude: -77.03 } }],
    ['reaction', { reaction: { message_id: 'wamid.OUT0001', emoji: '+1' } }],
    ['unsupported', { errors: [{ code: 131051, title: 'Message type unknown' }] }],
  ])('reads an inbound %s message without text', (type, content) => {
    const body = whatsAppBody({
      messages: [{ from: CUSTOMER, id: 'wamid.IN0002', timestamp: String(T0), type, ...content }],
    });

    const parsed = parseMetaWebhook(body);

    expect(parsed.items).toEqual([
      { kind: 'inbound', channel: 'whatsApp', from: `+${CUSTOMER}`, providerMessageId: 'wamid.IN0002', timestamp: T0 * 1000, text: null },
    ]);
  });

  it('reads statuses before messages of one change', () => {
    const body = whatsAppBody({
      messages: [{ from: CUSTOMER, id: 'wamid.IN0003', timestamp: String(T0), type: 'text', text: { body: 'hi' } }],
      statuses: [status('wamid.OUT0003', 'read', 0)],
    });

    expect(parseMetaWebhook(body).items.map((item) => item.kind)).toEqual(['status', 'inbound']);
  });

  it('skips a message without a sender number', () => {
    const body = whatsAppBody({
      messages: [{ from: 'someone', id: 'wamid.IN0004', timestamp: String(T0), type: 'text', text: { body: 'private words' } }],
    });

    const parsed = parseMetaWebhook(body);

    expect(parsed.items).toEqual([]);
    expect(parsed.skipped).toEqual(['entry[0].changes[0].value.messages[0]: from is missing or not a phone number']);
  });
});

describe('parseMetaWebhook: other WhatsApp content', () => {
  it('skips fields other than messages', () => {
    const parsed = parseMetaWebhook(
      whatsAppBody({ event: 'APPROVED', message_template_id: 12345 }, 'message_template_status_update'),
    );

    expect(parsed.items).toEqual([]);
    expect(parsed.skipped).toEqual([
      'entry[0].changes[0]: field "message_template_status_update" is not handled, only "messages"',
    ]);
  });

  it('reports errors of the whole update', () => {
    const parsed = parseMetaWebhook(whatsAppBody({ errors: [{ code: 131000, title: 'Something went wrong' }] }));

    expect(parsed.skipped).toEqual([
      'entry[0].changes[0].value.errors: WhatsApp reported 1 error(s), first code 131000',
    ]);
  });

  it('skips statuses that are not an array', () => {
    const parsed = parseMetaWebhook(whatsAppBody({ statuses: { id: 'wamid.TEST0040' } }));

    expect(parsed.skipped).toEqual(['entry[0].changes[0].value.statuses: expected an array, got an object']);
  });

  it('skips an entry without changes', () => {
    const parsed = parseMetaWebhook({ object: 'whatsapp_business_account', entry: [{ id: BUSINESS_ACCOUNT_ID }] });

    expect(parsed.skipped).toEqual(['entry[0]: changes is missing or not an array']);
  });
});

describe('parseMetaWebhook: Messenger', () => {
  it('reads a delivery with mids', () => {
    const parsed = parseMetaWebhook(
      messengerBody({
        sender: { id: PSID },
        recipient: { id: PAGE_ID },
        delivery: { mids: ['m_TEST0001', 'm_TEST0002'], watermark: T0 * 1000 + 250 },
      }),
    );

    expect(parsed.items).toEqual([
      {
        kind: 'watermark',
        channel: 'fbMessenger',
        state: 'delivered',
        psid: PSID,
        pageId: PAGE_ID,
        watermark: T0 * 1000 + 250,
        mids: ['m_TEST0001', 'm_TEST0002'],
      },
    ]);
    expect(parsed.skipped).toEqual([]);
  });

  it('reads a delivery without mids', () => {
    const [item] = parseMetaWebhook(
      messengerBody({ sender: { id: PSID }, recipient: { id: PAGE_ID }, delivery: { watermark: T0 * 1000 } }),
    ).items;

    expect(item).toMatchObject({ kind: 'watermark', state: 'delivered', mids: [], watermark: T0 * 1000 });
  });

  it('reads a read watermark', () => {
    const parsed = parseMetaWebhook(
      messengerBody({
        sender: { id: PSID },
        recipient: { id: PAGE_ID },
        timestamp: T0 * 1000 + 900,
        read: { watermark: T0 * 1000 + 500 },
      }),
    );

    expect(parsed.items).toEqual([
      { kind: 'watermark', channel: 'fbMessenger', state: 'read', psid: PSID, pageId: PAGE_ID, watermark: T0 * 1000 + 500, mids: [] },
    ]);
  });

  it('takes the page id from the entry without a recipient', () => {
    const [item] = parseMetaWebhook(messengerBody({ sender: { id: PSID }, read: { watermark: T0 * 1000 } })).items;

    expect(item).toMatchObject({ pageId: PAGE_ID });
  });

  it('reads an inbound text message', () => {
    const parsed = parseMetaWebhook(
      messengerBody({
        sender: { id: PSID },
        recipient: { id: PAGE_ID },
        timestamp: T0 * 1000 + 42,
        message: { mid: 'm_IN0001', text: 'Do you open on Sundays?' },
      }),
    );

    expect(parsed.items).toEqual([
      {
        kind: 'inbound',
        channel: 'fbMessenger',
        from: PSID,
        providerMessageId: 'm_IN0001',
        timestamp: T0 * 1000 + 42,
        text: 'Do you open on Sundays?',
      },
    ]);
  });

  it('reads an inbound attachment without text', () => {
    const [item] = parseMetaWebhook(
      messengerBody({
        sender: { id: PSID },
        recipient: { id: PAGE_ID },
        timestamp: T0 * 1000,
        message: { mid: 'm_IN0002', attachments: [{ type: 'image', payload: { url: 'https://example.test/a.jpg' } }] },
      }),
    ).items;

    expect(item).toMatchObject({ kind: 'inbound', providerMessageId: 'm_IN0002', text: null });
  });

  it('skips message echoes', () => {
    const parsed = parseMetaWebhook(
      messengerBody({
        sender: { id: PAGE_ID },
        recipient: { id: PSID },
        timestamp: T0 * 1000,
        message: { is_echo: true, app_id: 1234, mid: 'm_OUT0001', text: 'Thanks for your order' },
      }),
    );

    expect(parsed.items).toEqual([]);
    expect(parsed.skipped).toEqual([
      'entry[0].messaging[0]: message echo of a message the Page sent, not an inbound message',
    ]);
  });

  it('skips postbacks with the event kind', () => {
    const parsed = parseMetaWebhook(
      messengerBody({
        sender: { id: PSID },
        recipient: { id: PAGE_ID },
        timestamp: T0 * 1000,
        postback: { title: 'Get started', payload: 'GET_STARTED' },
      }),
    );

    expect(parsed.skipped).toEqual(['entry[0].messaging[0]: event "postback" is not handled, only delivery, read and message']);
  });

  it('skips standby events', () => {
    const parsed = parseMetaWebhook({
      object: 'page',
      entry: [{ id: PAGE_ID, time: T0 * 1000, standby: [{ sender: { id: PSID }, read: { watermark: T0 * 1000 } }] }],
    });

    expect(parsed.items).toEqual([]);
    expect(parsed.skipped).toEqual(['entry[0].standby: standby events of the handover protocol are not handled']);
  });

  it.each([
    ['without a sender', { recipient: { id: PAGE_ID }, delivery: { watermark: T0 * 1000 } }, 'sender.id is missing'],
    [
      'with a watermark in a string',
      { sender: { id: PSID }, delivery: { watermark: String(T0 * 1000) } },
      'delivery.watermark is missing or not epoch milliseconds',
    ],
    [
      'with mids that are not ids',
      { sender: { id: PSID }, delivery: { mids: [42], watermark: T0 * 1000 } },
      'delivery.mids is not an array of message ids',
    ],
    [
      'with a message without mid',
      { sender: { id: PSID }, timestamp: T0 * 1000, message: { text: 'hello' } },
      'message.mid is missing',
    ],
    [
      'with a message without timestamp',
      { sender: { id: PSID }, message: { mid: 'm_IN0003', text: 'hello' } },
      'timestamp is missing or not epoch milliseconds',
    ],
  ])('skips an event %s', (_case, event, reason) => {
    const parsed = parseMetaWebhook(messengerBody(event));

    expect(parsed.items).toEqual([]);
    expect(parsed.skipped).toEqual([`entry[0].messaging[0]: ${reason}`]);
  });

  it('keeps Messenger events in body order', () => {
    const parsed = parseMetaWebhook(
      messengerBody(
        { sender: { id: PSID }, read: { watermark: T0 * 1000 + 2 } },
        { sender: { id: PSID }, delivery: { watermark: T0 * 1000 + 1 } },
        { sender: { id: PSID }, delivery: { watermark: T0 * 1000 + 1 } },
      ),
    );

    expect(parsed.items.map((item) => (item.kind === 'watermark' ? `${item.state}@${item.watermark}` : item.kind))).toEqual([
      `read@${T0 * 1000 + 2}`,
      `delivered@${T0 * 1000 + 1}`,
      `delivered@${T0 * 1000 + 1}`,
    ]);
  });
});

describe('parseMetaWebhook: malformed bodies', () => {
  it.each([
    ['null', null, 'body: expected a JSON object, got null'],
    ['a string', 'hello', 'body: expected a JSON object, got "hello"'],
    ['an array', [], 'body: expected a JSON object, got an array'],
    ['an object without entry', { object: 'page' }, 'entry: expected an array, got missing'],
    ['an entry that is an object', { object: 'page', entry: {} }, 'entry: expected an array, got an object'],
    ['another product', { object: 'instagram', entry: [] }, 'object: "instagram" is not handled, only "whatsapp_business_account" and "page"'],
    ['a missing object', { entry: [] }, 'object: missing is not handled, only "whatsapp_business_account" and "page"'],
  ])('reports %s', (_case, body, reason) => {
    expect(parseMetaWebhook(body)).toEqual({ items: [], skipped: [reason] });
  });

  it('reads at most the event limit', () => {
    const statuses = Array.from({ length: MAX_EVENTS_PER_BODY + 500 }, (_unused, index) =>
      status(`wamid.BULK${index}`, 'delivered', index),
    );

    const parsed = parseMetaWebhook(whatsAppBody({ statuses }));

    expect(parsed.items).toHaveLength(MAX_EVENTS_PER_BODY);
    expect(parsed.items.at(-1)).toMatchObject({ providerMessageId: `wamid.BULK${MAX_EVENTS_PER_BODY - 1}` });
    expect(parsed.skipped).toEqual([`500 events after the first ${MAX_EVENTS_PER_BODY} not read`]);
  });

  it('counts the event limit across arrays', () => {
    const statuses = Array.from({ length: MAX_EVENTS_PER_BODY }, (_unused, index) => status(`wamid.S${index}`, 'sent', 0));
    const messages = [{ from: CUSTOMER, id: 'wamid.IN0009', timestamp: String(T0), type: 'text', text: { body: 'late' } }];

    const parsed = parseMetaWebhook(whatsAppBody({ statuses, messages }));

    expect(parsed.items.every((item) => item.kind === 'status')).toBe(true);
    expect(parsed.skipped).toEqual([`1 event after the first ${MAX_EVENTS_PER_BODY} not read`]);
  });

  it('caps the skip reasons', () => {
    const statuses = Array.from({ length: 250 }, () => 'not a status');

    const parsed = parseMetaWebhook(whatsAppBody({ statuses }));

    expect(parsed.skipped).toHaveLength(101);
    expect(parsed.skipped.at(-1)).toBe('150 further skip reasons left out');
  });

  it('keeps message text and numbers out of skip reasons', () => {
    const body = whatsAppBody({
      statuses: [{ id: 'wamid.X', status: 'Call me at +12025550199', timestamp: String(T0), recipient_id: CUSTOMER }],
      messages: [{ from: 'Secret words here', id: 'wamid.Y', timestamp: String(T0), type: 'text', text: { body: 'private' } }],
    });

    const joined = parseMetaWebhook(body).skipped.join('\n');

    expect(joined).not.toContain('12025550199');
    expect(joined).not.toContain('Secret');
    expect(joined).not.toContain('private');
  });

  it('never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = parseMetaWebhook(value);
        expect(Array.isArray(parsed.items)).toBe(true);
        expect(Array.isArray(parsed.skipped)).toBe(true);
      }),
    );
  });

  it('never throws on bodies with arbitrary events', () => {
    const event = fc.dictionary(
      fc.constantFrom('id', 'status', 'timestamp', 'recipient_id', 'errors', 'from', 'type', 'text', 'sender', 'delivery', 'read', 'message'),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 5 }), (events) => {
        expect(() => parseMetaWebhook(whatsAppBody({ statuses: events, messages: events }))).not.toThrow();
        expect(() => parseMetaWebhook(messengerBody(...events))).not.toThrow();
      }),
    );
  });
});

describe('verificationChallenge', () => {
  const TOKEN = 'verify-token-for-tests';

  it('echoes the challenge', () => {
    const result = verificationChallenge(
      { 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN, 'hub.challenge': '1158201444' },
      TOKEN,
    );

    expect(result).toEqual({ ok: true, challenge: '1158201444' });
  });

  it.each([
    ['another mode', { 'hub.mode': 'unsubscribe' }, 'hub.mode is "unsubscribe", expected "subscribe"'],
    ['a missing mode', { 'hub.mode': undefined }, 'hub.mode is missing, expected "subscribe"'],
    ['a wrong token', { 'hub.verify_token': 'verify-token-for-test' }, 'hub.verify_token is missing or does not match'],
    ['a token with a suffix', { 'hub.verify_token': `${TOKEN}x` }, 'hub.verify_token is missing or does not match'],
    ['a repeated token', { 'hub.verify_token': [TOKEN, TOKEN] }, 'hub.verify_token is missing or does not match'],
    ['a missing challenge', { 'hub.challenge': undefined }, 'hub.challenge is missing'],
    ['a challenge with markup', { 'hub.challenge': '<script>alert(1)</script>' }, 'hub.challenge is missing or not'],
    ['a long challenge', { 'hub.challenge': '1'.repeat(257) }, 'hub.challenge is missing or not'],
  ])('rejects %s', (_case, change, reason) => {
    const query = { 'hub.mode': 'subscribe', 'hub.verify_token': TOKEN, 'hub.challenge': '1158201444', ...change };

    const result = verificationChallenge(query, TOKEN);

    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });

  it('rejects everything without a configured token', () => {
    const result = verificationChallenge({ 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': '1' }, '');

    expect(result).toEqual({
      ok: false,
      reason: 'No webhook verify token is configured. Set META_VERIFY_TOKEN (or verifyToken in the space\'s channel settings) and enter the same value at Meta.',
    });
  });
});
