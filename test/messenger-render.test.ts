import { describe, expect, it } from 'vitest';
import { normalizePsid } from '../src/channels/messenger/address.js';
import {
  characterCount,
  MESSENGER_LIMITS,
  renderMessenger,
  resolveMessagingType,
  type MessengerContentError,
  type MessengerSendBody,
} from '../src/channels/messenger/render.js';
import { checkMessagingWindow, HUMAN_AGENT_WINDOW_MS, STANDARD_WINDOW_MS } from '../src/channels/messenger/window.js';
import type { ChannelContent } from '../src/channels/types.js';

function content(overrides: Partial<ChannelContent> = {}): ChannelContent {
  return { body: 'Your parcel arrives today.', title: null, custom: null, options: null, ...overrides };
}

function renderOk(input: ChannelContent): MessengerSendBody {
  const result = renderMessenger(input);
  if (!result.ok) {
    throw new Error(`expected valid content, got ${JSON.stringify(result.errors)}`);
  }
  return result.body;
}

function renderErrors(input: ChannelContent): MessengerContentError[] {
  const result = renderMessenger(input);
  if (result.ok) {
    throw new Error(`expected invalid content, got ${JSON.stringify(result.body)}`);
  }
  return result.errors;
}

function pointers(errors: MessengerContentError[]): string[] {
  return errors.map((error) => error.pointer);
}

function quickReply(index: number): Record<string, unknown> {
  return { content_type: 'text', title: `Option ${index}`, payload: `OPTION_${index}` };
}

describe('renderMessenger generated text', () => {
  it('sends the body as text with UPDATE', () => {
    const body = renderOk(content());

    expect(body).toEqual({ messaging_type: 'UPDATE', message: { text: 'Your parcel arrives today.' } });
  });

  it('puts the title on the first line', () => {
    const body = renderOk(content({ title: 'Delivery update' }));

    expect(body.message.text).toBe('Delivery update\nYour parcel arrives today.');
  });

  it('ignores a blank title', () => {
    const body = renderOk(content({ title: '   ' }));

    expect(body.message.text).toBe('Your parcel arrives today.');
  });

  it('sends the title alone for an empty body', () => {
    const body = renderOk(content({ title: 'Delivery update', body: '' }));

    expect(body.message.text).toBe('Delivery update');
  });

  it('rejects empty text', () => {
    const errors = renderErrors(content({ body: ' \n ' }));

    expect(pointers(errors)).toEqual(['/body']);
    expect(errors[0]?.message).toContain('is empty');
  });

  it('accepts text of exactly 2000 characters', () => {
    const body = renderOk(content({ body: 'a'.repeat(MESSENGER_LIMITS.textLength) }));

    expect(body.message.text).toHaveLength(2000);
  });

  it('rejects text over 2000 characters', () => {
    const errors = renderErrors(content({ body: 'a'.repeat(2001) }));

    expect(pointers(errors)).toEqual(['/body']);
    expect(errors[0]?.message).toContain('2001 characters');
    expect(errors[0]?.message).toContain('at most 2000');
  });

  it('counts the title towards the limit', () => {
    const errors = renderErrors(content({ title: 'Hi', body: 'a'.repeat(1998) }));

    expect(errors[0]?.message).toContain('together with the title');
    expect(errors[0]?.message).toContain('2001 characters');
  });

  it('counts an astral emoji as one character', () => {
    const text = '😀'.repeat(2000);

    expect(characterCount(text)).toBe(2000);
    expect(renderOk(content({ body: text })).message.text).toBe(text);
  });
});

describe('resolveMessagingType', () => {
  it('defaults to UPDATE without a tag', () => {
    const result = resolveMessagingType(content());

    expect(result).toEqual({ ok: true, choice: { messagingType: 'UPDATE', tag: null } });
  });

  it('takes RESPONSE from channel options', () => {
    const body = renderOk(content({ options: { messagingType: 'RESPONSE' } }));

    expect(body.messaging_type).toBe('RESPONSE');
    expect(body.tag).toBeUndefined();
  });

  it('sends a tag from channel options', () => {
    const body = renderOk(content({ options: { messagingType: 'MESSAGE_TAG', messageTag: 'POST_PURCHASE_UPDATE' } }));

    expect(body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'POST_PURCHASE_UPDATE' });
  });

  it('implies MESSAGE_TAG from a tag alone', () => {
    const body = renderOk(content({ options: { messageTag: 'ACCOUNT_UPDATE' } }));

    expect(body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'ACCOUNT_UPDATE' });
  });

  it('requires a tag for MESSAGE_TAG', () => {
    const errors = renderErrors(content({ options: { messagingType: 'MESSAGE_TAG' } }));

    expect(pointers(errors)).toEqual(['/channelOptions/fbMessenger/messageTag']);
    expect(errors[0]?.message).toContain('HUMAN_AGENT');
  });

  it('rejects a tag with another messaging type', () => {
    const errors = renderErrors(content({ options: { messagingType: 'UPDATE', messageTag: 'ACCOUNT_UPDATE' } }));

    expect(pointers(errors)).toEqual(['/channelOptions/fbMessenger/messagingType']);
  });

  it('rejects an unknown tag', () => {
    const errors = renderErrors(content({ options: { messageTag: 'ISSUE_RESOLUTION' } }));

    expect(pointers(errors)).toEqual(['/channelOptions/fbMessenger/messageTag']);
    expect(errors[0]?.message).toContain('got "ISSUE_RESOLUTION"');
  });

  it('rejects an unknown messaging type', () => {
    const errors = renderErrors(content({ options: { messagingType: 'BROADCAST' } }));

    expect(pointers(errors)).toEqual(['/channelOptions/fbMessenger/messagingType']);
  });

  it('rejects unknown channel options', () => {
    const errors = renderErrors(content({ options: { messagingType: 'UPDATE', priority: 'high' } }));

    expect(pointers(errors)).toEqual(['/channelOptions/fbMessenger/priority']);
  });

  it('takes type and tag from the custom body', () => {
    const body = renderOk(content({ custom: { text: 'Hello', messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' } }));

    expect(body).toEqual({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'Hello' } });
  });

  it('implies MESSAGE_TAG from a custom tag', () => {
    const body = renderOk(content({ custom: { text: 'Hello', tag: 'CONFIRMED_EVENT_UPDATE' } }));

    expect(body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'CONFIRMED_EVENT_UPDATE' });
  });

  it('prefers the custom body over channel options', () => {
    const body = renderOk(
      content({ custom: { text: 'Hello', messaging_type: 'RESPONSE' }, options: { messageTag: 'ACCOUNT_UPDATE' } }),
    );

    expect(body.messaging_type).toBe('RESPONSE');
    expect(body.tag).toBeUndefined();
  });

  it('reports a custom MESSAGE_TAG without tag', () => {
    const errors = renderErrors(content({ custom: { text: 'Hello', messaging_type: 'MESSAGE_TAG' } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/tag']);
  });
});

describe('renderMessenger custom body', () => {
  it('passes custom text through', () => {
    const body = renderOk(content({ title: 'Ignored', custom: { text: 'Custom text', metadata: 'order-88121' } }));

    expect(body).toEqual({ messaging_type: 'UPDATE', message: { text: 'Custom text', metadata: 'order-88121' } });
  });

  it('sends notification_type', () => {
    const body = renderOk(content({ custom: { text: 'Quiet', notification_type: 'SILENT_PUSH' } }));

    expect(body.notification_type).toBe('SILENT_PUSH');
  });

  it('rejects an unknown notification_type', () => {
    const errors = renderErrors(content({ custom: { text: 'Quiet', notification_type: 'LOUD' } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/notification_type']);
  });

  it('rejects custom text over 2000 characters', () => {
    const errors = renderErrors(content({ custom: { text: 'b'.repeat(2001) } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/text']);
    expect(errors[0]?.message).toBe('is 2001 characters long, but the maximum is 2000');
  });

  it('rejects text and attachment together', () => {
    const errors = renderErrors(
      content({ custom: { text: 'Hi', attachment: { type: 'image', payload: { url: 'https://example.com/a.png' } } } }),
    );

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger']);
    expect(errors[0]?.message).toContain('sets both text and attachment');
  });

  it('rejects a body without text or attachment', () => {
    const errors = renderErrors(content({ custom: { quick_replies: [quickReply(1)] } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger']);
    expect(errors[0]?.message).toContain('neither text nor attachment');
  });

  it('rejects unknown and nested request fields', () => {
    const errors = renderErrors(content({ custom: { text: 'Hi', recipient: { id: '1' }, message: { text: 'x' } } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/recipient', '/customBody/fbMessenger/message']);
  });

  it('rejects non-string text', () => {
    const errors = renderErrors(content({ custom: { text: 42 } }));

    expect(errors).toEqual([{ pointer: '/customBody/fbMessenger/text', message: 'must be a string, got a number' }]);
  });

  it('rejects metadata of 1000 characters', () => {
    const errors = renderErrors(content({ custom: { text: 'Hi', metadata: 'm'.repeat(1000) } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/metadata']);
  });

  it('escapes odd field names in pointers', () => {
    const errors = renderErrors(content({ custom: { text: 'Hi', 'a/b~c': 1 } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/a~1b~0c']);
  });
});

describe('renderMessenger quick replies', () => {
  it('passes 13 quick replies through', () => {
    const replies = Array.from({ length: 13 }, (_, index) => quickReply(index));
    const body = renderOk(content({ custom: { text: 'Pick one', quick_replies: replies } }));

    expect(body.message.quick_replies).toEqual(replies);
  });

  it('rejects 14 quick replies', () => {
    const replies = Array.from({ length: 14 }, (_, index) => quickReply(index));
    const errors = renderErrors(content({ custom: { text: 'Pick one', quick_replies: replies } }));

    expect(errors).toEqual([{ pointer: '/customBody/fbMessenger/quick_replies', message: 'has 14 quick replies, but Messenger allows 1 to 13' }]);
  });

  it('rejects an empty quick reply list', () => {
    const errors = renderErrors(content({ custom: { text: 'Pick one', quick_replies: [] } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/quick_replies']);
  });

  it('accepts a title of 20 characters', () => {
    const reply = { content_type: 'text', title: 't'.repeat(20), payload: 'P' };
    const body = renderOk(content({ custom: { text: 'Pick', quick_replies: [reply] } }));

    expect(body.message.quick_replies?.[0]?.title).toHaveLength(20);
  });

  it('rejects a title of 21 characters', () => {
    const reply = { content_type: 'text', title: 't'.repeat(21), payload: 'P' };
    const errors = renderErrors(content({ custom: { text: 'Pick', quick_replies: [quickReply(0), reply] } }));

    expect(errors).toEqual([{ pointer: '/customBody/fbMessenger/quick_replies/1/title', message: 'is 21 characters long, but the maximum is 20' }]);
  });

  it('requires title and payload for text replies', () => {
    const errors = renderErrors(content({ custom: { text: 'Pick', quick_replies: [{ content_type: 'text' }] } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/quick_replies/0/title', '/customBody/fbMessenger/quick_replies/0/payload']);
  });

  it('accepts a numeric payload', () => {
    const reply = { content_type: 'text', title: 'Seven', payload: 7 };
    const body = renderOk(content({ custom: { text: 'Pick', quick_replies: [reply] } }));

    expect(body.message.quick_replies?.[0]?.payload).toBe(7);
  });

  it('rejects a payload over 1000 characters', () => {
    const reply = { content_type: 'text', title: 'Long', payload: 'p'.repeat(1001) };
    const errors = renderErrors(content({ custom: { text: 'Pick', quick_replies: [reply] } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/quick_replies/0/payload']);
  });

  it('accepts email and phone replies without title', () => {
    const replies = [{ content_type: 'user_email' }, { content_type: 'user_phone_number' }];
    const body = renderOk(content({ custom: { text: 'How can we reach you?', quick_replies: replies } }));

    expect(body.message.quick_replies).toEqual(replies);
  });

  it('rejects the removed location reply', () => {
    const errors = renderErrors(content({ custom: { text: 'Where?', quick_replies: [{ content_type: 'location' }] } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/quick_replies/0/content_type']);
    expect(errors[0]?.message).toContain('text, user_phone_number, user_email');
  });

  it('checks the image_url scheme', () => {
    const reply = { ...quickReply(0), image_url: 'ftp://example.com/red.png' };
    const errors = renderErrors(content({ custom: { text: 'Pick', quick_replies: [reply] } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/quick_replies/0/image_url']);
  });

  it('rejects a non-array list', () => {
    const errors = renderErrors(content({ custom: { text: 'Pick', quick_replies: { content_type: 'text' } } }));

    expect(errors[0]?.message).toContain('got an object');
  });
});

describe('renderMessenger attachments', () => {
  it('passes an image URL through', () => {
    const attachment = { type: 'image', payload: { url: 'https://example.com/parcel.jpg', is_reusable: true } };
    const body = renderOk(content({ custom: { attachment } }));

    expect(body.message).toEqual({ attachment });
  });

  it('accepts each media type', () => {
    for (const type of ['image', 'audio', 'video', 'file']) {
      const body = renderOk(content({ custom: { attachment: { type, payload: { url: 'https://example.com/f' } } } }));

      expect(body.message.attachment?.type).toBe(type);
    }
  });

  it('accepts an uploaded attachment id', () => {
    const attachment = { type: 'video', payload: { attachment_id: '1857777774821032' } };
    const body = renderOk(content({ custom: { attachment } }));

    expect(body.message.attachment).toEqual(attachment);
  });

  it('rejects url with attachment_id', () => {
    const attachment = { type: 'file', payload: { url: 'https://example.com/f.pdf', attachment_id: '123' } };
    const errors = renderErrors(content({ custom: { attachment } }));

    expect(errors).toEqual([{ pointer: '/customBody/fbMessenger/attachment/payload', message: 'must set exactly one of url and attachment_id' }]);
  });

  it('rejects an invalid media URL', () => {
    const errors = renderErrors(content({ custom: { attachment: { type: 'image', payload: { url: 'not a url' } } } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/attachment/payload/url']);
  });

  it('rejects a non-boolean is_reusable', () => {
    const attachment = { type: 'image', payload: { url: 'https://example.com/a.png', is_reusable: 'yes' } };
    const errors = renderErrors(content({ custom: { attachment } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/attachment/payload/is_reusable']);
  });

  it('rejects an unknown attachment type', () => {
    const errors = renderErrors(content({ custom: { attachment: { type: 'sticker', payload: { url: 'https://example.com/s' } } } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/attachment/type']);
  });

  it('passes a template payload through', () => {
    const attachment = {
      type: 'template',
      payload: {
        template_type: 'button',
        text: 'Track your parcel',
        buttons: [{ type: 'web_url', url: 'https://example.com/track/88121', title: 'Track' }],
      },
    };
    const body = renderOk(content({ custom: { attachment, tag: 'POST_PURCHASE_UPDATE' } }));

    expect(body).toEqual({ messaging_type: 'MESSAGE_TAG', tag: 'POST_PURCHASE_UPDATE', message: { attachment } });
  });

  it('requires template_type', () => {
    const errors = renderErrors(content({ custom: { attachment: { type: 'template', payload: { elements: [] } } } }));

    expect(pointers(errors)).toEqual(['/customBody/fbMessenger/attachment/payload/template_type']);
  });

  it('allows quick replies with an attachment', () => {
    const attachment = { type: 'image', payload: { url: 'https://example.com/a.png' } };
    const body = renderOk(content({ custom: { attachment, quick_replies: [quickReply(1)] } }));

    expect(body.message.quick_replies).toHaveLength(1);
  });

  it('reports every problem at once', () => {
    const errors = renderErrors(
      content({
        custom: { attachment: { type: 'image', payload: 'x' }, quick_replies: [{ content_type: 'text', title: '' }], tag: 'NOPE' },
      }),
    );

    expect(pointers(errors)).toEqual([
      '/customBody/fbMessenger/tag',
      '/customBody/fbMessenger/attachment/payload',
      '/customBody/fbMessenger/quick_replies/0/title',
      '/customBody/fbMessenger/quick_replies/0/payload',
    ]);
  });
});

describe('checkMessagingWindow', () => {
  const now = Date.UTC(2026, 0, 15, 12, 0, 0);
  const untagged = { messagingType: 'UPDATE' as const, tag: null };
  const accountUpdate = { messagingType: 'MESSAGE_TAG' as const, tag: 'ACCOUNT_UPDATE' as const };
  const humanAgent = { messagingType: 'MESSAGE_TAG' as const, tag: 'HUMAN_AGENT' as const };

  it('allows any message inside 24 hours', () => {
    const window = { lastInboundAt: now - STANDARD_WINDOW_MS + 1, now };

    expect(checkMessagingWindow(untagged, window)).toBeNull();
    expect(checkMessagingWindow({ messagingType: 'RESPONSE', tag: null }, window)).toBeNull();
    expect(checkMessagingWindow(humanAgent, window)).toBeNull();
  });

  it('rejects untagged messages at 24 hours', () => {
    expect(checkMessagingWindow(untagged, { lastInboundAt: now - STANDARD_WINDOW_MS, now })).toBe('ineligible');
  });

  it('rejects untagged messages without inbound', () => {
    expect(checkMessagingWindow(untagged, { lastInboundAt: null, now })).toBe('ineligible');
  });

  it('allows update tags at any age', () => {
    expect(checkMessagingWindow(accountUpdate, { lastInboundAt: now - 30 * STANDARD_WINDOW_MS, now })).toBeNull();
    expect(checkMessagingWindow(accountUpdate, { lastInboundAt: null, now })).toBeNull();
  });

  it('limits HUMAN_AGENT to 7 days', () => {
    expect(checkMessagingWindow(humanAgent, { lastInboundAt: now - HUMAN_AGENT_WINDOW_MS + 1, now })).toBeNull();
    expect(checkMessagingWindow(humanAgent, { lastInboundAt: now - HUMAN_AGENT_WINDOW_MS, now })).toBe('ineligible');
    expect(checkMessagingWindow(humanAgent, { lastInboundAt: null, now })).toBe('ineligible');
  });

  it('treats a future inbound time as inside', () => {
    expect(checkMessagingWindow(untagged, { lastInboundAt: now + 5_000, now })).toBeNull();
  });
});

describe('normalizePsid', () => {
  it('trims a page-scoped id', () => {
    expect(normalizePsid(' 1254477777772919 ')).toBe('1254477777772919');
  });

  it('returns null for unusable ids', () => {
    expect(normalizePsid(undefined)).toBeNull();
    expect(normalizePsid('   ')).toBeNull();
    expect(normalizePsid('12 34')).toBeNull();
    expect(normalizePsid('12\u000034')).toBeNull();
    expect(normalizePsid('1\u200b2')).toBeNull();
    expect(normalizePsid('9'.repeat(257))).toBeNull();
  });

  it('accepts 256 characters', () => {
    expect(normalizePsid('9'.repeat(256))).toHaveLength(256);
  });
});
