import { describe, expect, it } from 'vitest';
import type { FieldError } from '../../src/api/schema-errors.js';
import { parseSendRequest, type SendRequestContext } from '../../src/api/send-request.js';
import type { NewMessage } from '../../src/store/types.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

function context(defaultRegion: string | null = null): SendRequestContext {
  return { spaceId: 'space-1', now: NOW, defaultRegion, newId: () => 'message-1' };
}

const VALID = { body: 'Your parcel arrives today', to: { phoneNumber: '+12025550123' }, rules: ['sms'] };

function accept(body: unknown, defaultRegion: string | null = null): NewMessage {
  const result = parseSendRequest(body, context(defaultRegion));
  if (!result.ok) throw new Error(`expected the request to be accepted, got ${JSON.stringify(result.errors)}`);
  return result.message;
}

function reject(body: unknown, defaultRegion: string | null = null): FieldError[] {
  const result = parseSendRequest(body, context(defaultRegion));
  if (result.ok) throw new Error('expected the request to be rejected');
  return result.errors;
}

function detailAt(errors: FieldError[], pointer: string): string {
  const found = errors.find((error) => error.pointer === pointer);
  if (!found) throw new Error(`no error at ${pointer}; errors: ${JSON.stringify(errors)}`);
  return found.detail;
}

describe('parseSendRequest accepted messages', () => {
  it('builds the message with steps and defaults', () => {
    const message = accept({
      ...VALID,
      title: 'Delivery',
      to: { profileId: 'cust-1042', phoneNumber: '+12025550123', email: 'Ann@Example.COM', loyaltyId: 'L-7' },
      rules: ['sms', { channel: 'email' }, { channel: 'whatsApp', fallbackAfter: 'PT10M', fallbackUnless: 'read' }],
      metadata: { orderId: '88121' },
      conversationId: 'conv-9',
    });

    expect(message.id).toBe('message-1');
    expect(message.spaceId).toBe('space-1');
    expect(message.profileId).toBe('cust-1042');
    expect(message.to).toEqual({ phoneNumber: '+12025550123', email: 'Ann@example.com', loyaltyId: 'L-7' });
    expect(message.steps).toEqual([
      { channel: 'sms', condition: 'delivered', fallbackAfterMs: null },
      { channel: 'email', condition: 'accepted', fallbackAfterMs: null },
      { channel: 'whatsApp', condition: 'read', fallbackAfterMs: 600_000 },
    ]);
    expect(message.content).toEqual({ body: VALID.body, title: 'Delivery', customBody: {}, channelOptions: {} });
    expect(message.metadata).toEqual({ orderId: '88121' });
    expect(message.conversationId).toBe('conv-9');
    expect(message.createdAt).toBe(NOW);
  });

  it('keeps the request as given for echoing', () => {
    const body = { ...VALID, to: { phoneNumber: '1 202 555 0123' } };
    const message = accept(body);
    expect(message.request).toEqual(body);
    expect(message.to.phoneNumber).toBe('+12025550123');
  });

  it('converts expiresOn and sendAt to epoch milliseconds', () => {
    const message = accept({ ...VALID, sendAt: '2025-06-01T13:00:00Z', expiresOn: '2025-06-02T12:00:00+02:00' });
    expect(message.sendAt).toBe(Date.parse('2025-06-01T13:00:00Z'));
    expect(message.expiresAt).toBe(Date.parse('2025-06-02T10:00:00Z'));
  });

  it('keeps custom bodies and channel options per channel', () => {
    const message = accept({
      ...VALID,
      to: { phoneNumber: '+12025550123', fbMessengerId: 'psid-1' },
      rules: ['fbMessenger', 'sms'],
      customBody: { sms: { from: 'ACME', body: 'Parcel today, {{profile.firstName}}' } },
      channelOptions: { fbMessenger: { messagingType: 'MESSAGE_TAG', messageTag: 'POST_PURCHASE_UPDATE' } },
    });
    expect(message.content.customBody).toEqual({ sms: { from: 'ACME', body: 'Parcel today, {{profile.firstName}}' } });
    expect(message.content.channelOptions).toEqual({ fbMessenger: { messagingType: 'MESSAGE_TAG', messageTag: 'POST_PURCHASE_UPDATE' } });
  });

  it('accepts a profileId without addresses', () => {
    const message = accept({ body: 'Hi', to: { profileId: 'cust-1' }, rules: ['sms', 'email'] });
    expect(message.to).toEqual({});
    expect(message.profileId).toBe('cust-1');
  });
});

describe('parseSendRequest phone numbers', () => {
  it.each([
    ['+12025550123', null, '+12025550123'],
    ['12025550123', null, '+12025550123'],
    ['+1 (202) 555-0123', null, '+12025550123'],
    ['(202) 555-0123', 'US', '+12025550123'],
    ['020 7946 0018', 'GB', '+442079460018'],
    ['+44 (0)20 7946 0018', null, '+442079460018'],
    ['0044 20 7946 0018', null, '+442079460018'],
  ])('normalises %s (region %s) to %s', (input, region, e164) => {
    const message = accept({ ...VALID, to: { phoneNumber: input } }, region);
    expect(message.to.phoneNumber).toBe(e164);
  });

  it('rejects a national number without a default region', () => {
    const errors = reject({ ...VALID, to: { phoneNumber: '020 7946 0018' } });
    expect(detailAt(errors, '/to/phoneNumber')).toContain('DEFAULT_REGION');
  });

  it('rejects a number that is too short', () => {
    const errors = reject({ ...VALID, to: { phoneNumber: '+1202555' } });
    expect(detailAt(errors, '/to/phoneNumber')).toContain('too short');
  });

  it('rejects letters in a phone number', () => {
    const errors = reject({ ...VALID, to: { phoneNumber: '+1 202 CALL NOW' } });
    expect(detailAt(errors, '/to/phoneNumber')).toContain('characters other than digits');
  });
});

describe('parseSendRequest email addresses', () => {
  it('lower-cases the domain', () => {
    const message = accept({ ...VALID, to: { email: 'Ann@Example.COM' }, rules: ['email'] });
    expect(message.to.email).toBe('Ann@example.com');
  });

  it('rejects an address without @', () => {
    const errors = reject({ ...VALID, to: { email: 'ann.example.com' }, rules: ['email'] });
    expect(detailAt(errors, '/to/email')).toContain('missing the @');
  });
});

describe('parseSendRequest schema errors', () => {
  it.each<[string, unknown, string, string]>([
    ['a non-object body', [1, 2], '', 'must be a JSON object'],
    ['a missing body', { to: VALID.to, rules: ['sms'] }, '/body', 'is required'],
    ['a missing to', { body: 'Hi', rules: ['sms'] }, '/to', 'is required'],
    ['an empty body', { ...VALID, body: '' }, '/body', 'must not be empty'],
    ['an overlong body', { ...VALID, body: 'x'.repeat(10_001) }, '/body', 'at most 10000 characters (got 10001)'],
    ['an unknown top-level field', { ...VALID, priority: 'high' }, '/priority', 'allowed fields: body, title, to, rules'],
    ['an unknown channel id', { ...VALID, rules: ['sms', 'pigeon'] }, '/rules/1', 'one of sms, whatsApp, fbMessenger, email, appMessaging (got "pigeon")'],
    ['an unknown channel in a rule object', { ...VALID, rules: [{ channel: 'telex' }] }, '/rules/0/channel', 'one of sms, whatsApp'],
    ['a number as rule', { ...VALID, rules: [7] }, '/rules/0', 'or a rule object'],
    ['an unknown field in a rule', { ...VALID, rules: [{ channel: 'sms', after: 'PT1M' }] }, '/rules/0/after', 'allowed fields: channel, fallbackAfter, fallbackUnless'],
    ['an unknown condition', { ...VALID, rules: [{ channel: 'sms', fallbackUnless: 'seen' }] }, '/rules/0/fallbackUnless', 'one of accepted, delivered, read'],
    ['empty rules', { ...VALID, rules: [] }, '/rules', 'at least 1 item'],
    ['eleven rules', { ...VALID, rules: Array(11).fill('sms') }, '/rules', 'at most 10 items (got 11)'],
    ['a non-string address', { ...VALID, to: { phoneNumber: 12025550123 } }, '/to/phoneNumber', 'must be a string'],
    ['an invalid address key', { ...VALID, to: { phoneNumber: '+12025550123', 'loyalty id': 'x' } }, '/to/loyalty id', 'invalid field name'],
    ['a date without time zone', { ...VALID, sendAt: '2025-06-01T13:00:00' }, '/sendAt', 'RFC 3339'],
    ['a bad sms sender', { ...VALID, customBody: { sms: { from: 'ACME Deliveries' } } }, '/customBody/sms/from', 'up to 11 letters'],
    ['a custom body for an unknown channel', { ...VALID, customBody: { pager: { text: 'x' } } }, '/customBody/pager', 'allowed fields: sms, email, whatsApp, fbMessenger'],
    ['an empty custom sms body', { ...VALID, customBody: { sms: {} } }, '/customBody/sms', 'at least 1 field'],
    ['an unknown messaging type', { ...VALID, channelOptions: { fbMessenger: { messagingType: 'PROMO' } } }, '/channelOptions/fbMessenger/messagingType', 'RESPONSE, UPDATE, MESSAGE_TAG'],
    ['metadata that is an array', { ...VALID, metadata: ['a'] }, '/metadata', 'must be a JSON object'],
    ['a string requireOptIn', { ...VALID, requireOptIn: 'yes' }, '/requireOptIn', 'must be a boolean'],
  ])('names the pointer for %s', (_name, body, pointer, detailPart) => {
    const errors = reject(body);
    expect(detailAt(errors, pointer)).toContain(detailPart);
  });

  it('reports every bad field at once', () => {
    const errors = reject({ body: 5, to: {}, rules: ['sms', 'pigeon', { channel: 'telex' }], extra: true, sendAt: 'soon' });
    expect(errors.map((error) => error.pointer).sort()).toEqual(['/body', '/extra', '/rules/1', '/rules/2/channel', '/sendAt']);
  });

  it('reports each bad item of a long list', () => {
    const errors = reject({ ...VALID, rules: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] });
    expect(errors).toHaveLength(10);
  });
});

describe('parseSendRequest semantic errors', () => {
  it.each<[string, unknown, string, string]>([
    ['read on sms', { ...VALID, rules: [{ channel: 'sms', fallbackUnless: 'read' }] }, '/rules/0/fallbackUnless', 'read is not available on sms, which supports only accepted, delivered'],
    ['delivered on email', { ...VALID, to: { email: 'a@example.com' }, rules: [{ channel: 'email', fallbackUnless: 'delivered' }] }, '/rules/0/fallbackUnless', 'which supports only accepted'],
    ['a zero fallbackAfter', { ...VALID, rules: [{ channel: 'sms', fallbackAfter: 'PT0S' }] }, '/rules/0/fallbackAfter', 'longer than zero'],
    ['a negative fallbackAfter', { ...VALID, rules: [{ channel: 'sms', fallbackAfter: '-PT5M' }] }, '/rules/0/fallbackAfter', 'negative'],
    ['a fallbackAfter over 30 days', { ...VALID, rules: [{ channel: 'sms', fallbackAfter: 'P31D' }] }, '/rules/0/fallbackAfter', 'at most P30D'],
    ['a fallbackAfter in months', { ...VALID, rules: [{ channel: 'sms', fallbackAfter: 'P1M' }] }, '/rules/0/fallbackAfter', 'years or months'],
    ['a malformed fallbackAfter', { ...VALID, rules: [{ channel: 'sms', fallbackAfter: '10 minutes' }] }, '/rules/0/fallbackAfter', 'ISO 8601'],
    ['a repeated channel', { ...VALID, rules: ['sms', 'email', 'sms'] }, '/rules/2', 'repeats sms from /rules/0'],
    ['a repeated channel in a rule object', { ...VALID, rules: ['sms', { channel: 'sms' }] }, '/rules/1/channel', 'repeats sms from /rules/0'],
    ['neither rules nor ruleSet', { body: 'Hi', to: VALID.to }, '/rules', 'is required'],
    ['an unknown ruleSet', { body: 'Hi', to: VALID.to, ruleSet: 'default' }, '/ruleSet', 'names no stored rule set'],
    ['both rules and ruleSet', { ...VALID, ruleSet: 'default' }, '/ruleSet', 'cannot be combined with rules'],
    ['custom body and options for sms', { ...VALID, customBody: { sms: { body: 'Hi' } }, channelOptions: { sms: { from: 'ACME' } } }, '/channelOptions/sms', 'cannot be combined with customBody.sms'],
    ['MESSAGE_TAG without a tag', { ...VALID, channelOptions: { fbMessenger: { messagingType: 'MESSAGE_TAG' } } }, '/channelOptions/fbMessenger/messageTag', 'is required'],
    ['a tag with messagingType RESPONSE', { ...VALID, channelOptions: { fbMessenger: { messagingType: 'RESPONSE', messageTag: 'ACCOUNT_UPDATE' } } }, '/channelOptions/fbMessenger/messagingType', 'must be MESSAGE_TAG'],
    ['expiresOn in the past', { ...VALID, expiresOn: '2025-06-01T11:59:59Z' }, '/expiresOn', 'not in the future'],
    ['sendAt after expiresOn', { ...VALID, sendAt: '2025-06-03T00:00:00Z', expiresOn: '2025-06-02T00:00:00Z' }, '/sendAt', 'earlier than expiresOn'],
    ['metadata over 4096 bytes', { ...VALID, metadata: { note: 'é'.repeat(2100) } }, '/metadata', 'maximum of 4096'],
    ['no address and no profileId', { body: 'Hi', to: { appUserId: 'u-1' }, rules: ['sms', 'email'] }, '/to', 'sms needs phoneNumber, email needs email'],
    ['a subject with a line break', { ...VALID, to: { email: 'a@example.com' }, rules: ['email'], customBody: { email: { subject: 'Hi\r\nBcc: x@example.com' } } }, '/customBody/email/subject', 'control character U+000D'],
    ['a title with a line break sent by email', { ...VALID, title: 'Order\nBcc: x@example.com', to: { email: 'a@example.com' }, rules: ['email'] }, '/title', 'control character U+000A'],
    ['a sender name with a line break', { ...VALID, to: { email: 'a@example.com' }, rules: ['email'], channelOptions: { email: { fromName: 'ACME\r\nBcc: x@example.com' } } }, '/channelOptions/email/fromName', 'control character'],
  ])('names the pointer for %s', (_name, body, pointer, detailPart) => {
    const errors = reject(body);
    expect(detailAt(errors, pointer)).toContain(detailPart);
  });

  it('collects every semantic error at once', () => {
    const errors = reject({
      body: 'Hi',
      to: { phoneNumber: '12345', email: 'nope' },
      rules: [{ channel: 'sms', fallbackUnless: 'read' }, { channel: 'email', fallbackAfter: 'PT0S' }],
      expiresOn: '2020-01-01T00:00:00Z',
    });
    expect(errors.map((error) => error.pointer).sort()).toEqual([
      '/expiresOn',
      '/rules/0/fallbackUnless',
      '/rules/1/fallbackAfter',
      '/to/email',
      '/to/phoneNumber',
    ]);
  });

  it('allows a title with a line break when email is not used', () => {
    const message = accept({ ...VALID, title: 'Line one\nLine two' });
    expect(message.content.title).toBe('Line one\nLine two');
  });
});

describe('parseSendRequest native bodies', () => {
  const WHATSAPP = { ...VALID, rules: ['whatsApp', 'sms'] };
  const MESSENGER = { ...VALID, to: { phoneNumber: '+12025550123', fbMessengerId: 'psid-1' }, rules: ['fbMessenger', 'sms'] };
  const TEMPLATE = { type: 'template', template: { name: 'parcel_shipped', language: { code: 'en_US' } } };

  it.each<[string, unknown, string, string]>([
    ['a template without language', { ...WHATSAPP, customBody: { whatsApp: { type: 'template', template: { name: 'parcel_shipped' } } } }, '/customBody/whatsApp/template/language', 'is missing'],
    ['a template without name', { ...WHATSAPP, customBody: { whatsApp: { type: 'template', template: { language: { code: 'en_US' } } } } }, '/customBody/whatsApp/template/name', 'is missing'],
    ['an unknown WhatsApp type', { ...WHATSAPP, customBody: { whatsApp: { type: 'fax', fax: {} } } }, '/customBody/whatsApp/type', 'must be one of text, template'],
    ['a WhatsApp type without its object', { ...WHATSAPP, customBody: { whatsApp: { type: 'text' } } }, '/customBody/whatsApp/text', 'needs a "text" object'],
    ['WhatsApp text over 4096 characters', { ...WHATSAPP, customBody: { whatsApp: { text: { body: 'x'.repeat(4097) } } } }, '/customBody/whatsApp/text/body', 'maximum is 4096'],
    ['a WhatsApp image without id or link', { ...WHATSAPP, customBody: { whatsApp: { type: 'image', image: { caption: 'Parcel' } } } }, '/customBody/whatsApp/image', 'exactly one of "id"'],
    ['a WhatsApp image with a file link', { ...WHATSAPP, customBody: { whatsApp: { type: 'image', image: { link: 'file:///etc/passwd' } } } }, '/customBody/whatsApp/image/link', 'http or https URL'],
    ['a body too long for WhatsApp', { ...WHATSAPP, body: 'x'.repeat(4097) }, '/body', 'at most 4096'],
    ['Messenger text and attachment', { ...MESSENGER, customBody: { fbMessenger: { text: 'Hi', attachment: { type: 'image', payload: { url: 'https://example.com/a.png' } } } } }, '/customBody/fbMessenger', 'sets both text and attachment'],
    ['Messenger without text or attachment', { ...MESSENGER, customBody: { fbMessenger: { metadata: 'order-88121' } } }, '/customBody/fbMessenger', 'sets neither text nor attachment'],
    ['an unknown Messenger field', { ...MESSENGER, customBody: { fbMessenger: { text: 'Hi', priority: 'high' } } }, '/customBody/fbMessenger/priority', 'is not a supported field'],
    ['an unknown attachment type', { ...MESSENGER, customBody: { fbMessenger: { attachment: { type: 'gif', payload: { url: 'https://example.com/a.gif' } } } } }, '/customBody/fbMessenger/attachment/type', 'must be one of image, audio, video, file, template'],
    ['a quick reply title over 20 characters', { ...MESSENGER, customBody: { fbMessenger: { text: 'Hi', quick_replies: [{ content_type: 'text', title: 'x'.repeat(21), payload: 'ok' }] } } }, '/customBody/fbMessenger/quick_replies/0/title', 'maximum is 20'],
    ['a Messenger tag with UPDATE', { ...MESSENGER, customBody: { fbMessenger: { text: 'Hi', messaging_type: 'UPDATE', tag: 'ACCOUNT_UPDATE' } } }, '/customBody/fbMessenger/messaging_type', 'only with the messaging type MESSAGE_TAG'],
    ['a retired Messenger tag', { ...MESSENGER, customBody: { fbMessenger: { text: 'Hi', tag: 'ISSUE_RESOLUTION' } } }, '/customBody/fbMessenger/tag', 'must be one of ACCOUNT_UPDATE'],
    ['a body too long for Messenger', { ...MESSENGER, body: 'x'.repeat(2001) }, '/body', 'at most 2000'],
  ])('names the pointer for %s', (_name, body, pointer, detailPart) => {
    const errors = reject(body);
    expect(detailAt(errors, pointer)).toContain(detailPart);
  });

  it('accepts valid native bodies', () => {
    const message = accept({
      ...MESSENGER,
      rules: ['whatsApp', 'fbMessenger', 'sms'],
      customBody: {
        whatsApp: TEMPLATE,
        fbMessenger: { attachment: { type: 'image', payload: { url: 'https://example.com/a.png' } }, tag: 'POST_PURCHASE_UPDATE' },
      },
    });
    expect(message.content.customBody['whatsApp']).toEqual(TEMPLATE);
    expect(message.content.customBody['fbMessenger']).toMatchObject({ tag: 'POST_PURCHASE_UPDATE' });
  });

  it('checks a custom body for a channel not in rules', () => {
    const errors = reject({ ...VALID, customBody: { whatsApp: { type: 'template', template: { name: 'parcel_shipped' } } } });
    expect(errors.map((error) => error.pointer)).toEqual(['/customBody/whatsApp/template/language']);
  });

  it('leaves body limits to channels in rules', () => {
    const message = accept({ ...VALID, body: 'x'.repeat(5000) });
    expect(message.content.body).toHaveLength(5000);
  });

  it('reports a Messenger option error once', () => {
    const errors = reject({ ...MESSENGER, channelOptions: { fbMessenger: { messagingType: 'MESSAGE_TAG' } } });
    expect(errors.map((error) => error.pointer)).toEqual(['/channelOptions/fbMessenger/messageTag']);
  });

  it('reports the limits of both channels', () => {
    const errors = reject({ ...MESSENGER, body: 'x'.repeat(5000), rules: ['whatsApp', 'fbMessenger', 'sms'] });
    const details = errors.filter((error) => error.pointer === '/body').map((error) => error.detail);
    expect(details).toHaveLength(2);
    expect(details[0]).toContain('at most 4096');
    expect(details[1]).toContain('at most 2000');
  });
});
