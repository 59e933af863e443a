import { describe, expect, it } from 'vitest';
import type { ChannelContent } from '../src/channels/types.js';
import { htmlToText } from '../src/channels/email/html-text.js';
import { MAX_SUBJECT_LENGTH, renderEmail, validateEmailContent } from '../src/channels/email/render.js';

const FROM = { fromAddress: 'news@example.com', defaultFromName: 'Example News' };

function content(overrides: Partial<ChannelContent> = {}): ChannelContent {
  return { body: 'Your parcel arrives today.', title: 'Delivery update', custom: null, options: null, ...overrides };
}

function renderOk(input: ChannelContent) {
  const result = renderEmail(input, FROM);
  if (!result.ok) {
    throw new Error(`expected valid content, got ${JSON.stringify(result.errors)}`);
  }
  return result.mail;
}

describe('renderEmail', () => {
  it('maps title to subject and body to text', () => {
    const mail = renderOk(content());

    expect(mail.subject).toBe('Delivery update');
    expect(mail.text).toBe('Your parcel arrives today.');
    expect(mail.html).toBeNull();
  });

  it('renders an empty subject without title', () => {
    const mail = renderOk(content({ title: null }));

    expect(mail.subject).toBe('');
  });

  it('uses the default sender name and the configured address', () => {
    const mail = renderOk(content());

    expect(mail.from).toEqual({ name: 'Example News', address: 'news@example.com' });
  });

  it('uses fromName from channel options', () => {
    const mail = renderOk(content({ options: { fromName: 'ACME Støre' } }));

    expect(mail.from).toEqual({ name: 'ACME Støre', address: 'news@example.com' });
  });

  it('renders no sender name without any', () => {
    const result = renderEmail(content(), { fromAddress: 'news@example.com' });

    expect(result).toMatchObject({ ok: true, mail: { from: { name: '' } } });
  });

  it('replaces the generated body with custom text and html', () => {
    const mail = renderOk(
      content({ custom: { subject: 'Custom subject', text: 'Custom text', html: '<p>Custom <b>HTML</b></p>' } }),
    );

    expect(mail.subject).toBe('Custom subject');
    expect(mail.text).toBe('Custom text');
    expect(mail.html).toBe('<p>Custom <b>HTML</b></p>');
  });

  it('keeps title as subject when custom body sets none', () => {
    const mail = renderOk(content({ custom: { text: 'Custom text' } }));

    expect(mail.subject).toBe('Delivery update');
    expect(mail.text).toBe('Custom text');
    expect(mail.html).toBeNull();
  });

  it('derives the text part from custom html alone', () => {
    const mail = renderOk(content({ custom: { html: '<h1>Parcel</h1><p>Arrives <a href="https://example.com/t/1">today</a>.</p>' } }));

    expect(mail.html).toContain('<h1>Parcel</h1>');
    expect(mail.text).toBe('Parcel\n\nArrives today (https://example.com/t/1).');
    expect(mail.text).not.toContain('Your parcel arrives today.');
  });

  it('keeps the generated body when custom sets only subject', () => {
    const mail = renderOk(content({ custom: { subject: 'Only the subject' } }));

    expect(mail.subject).toBe('Only the subject');
    expect(mail.text).toBe('Your parcel arrives today.');
  });

  it('treats null custom fields as absent', () => {
    const mail = renderOk(content({ custom: { subject: null, text: 'Text' } }));

    expect(mail.subject).toBe('Delivery update');
    expect(mail.text).toBe('Text');
  });

  it('returns the validation errors for invalid content', () => {
    const result = renderEmail(content({ title: 'Hello\r\nBcc: victim@example.com' }), FROM);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((error) => error.pointer)).toEqual(['/title']);
  });
});

describe('validateEmailContent', () => {
  const headerInjections: Array<{ name: string; input: ChannelContent; pointer: string; char: string }> = [
    { name: 'CRLF in title', input: content({ title: 'Hi\r\nBcc: x@example.com' }), pointer: '/title', char: 'U+000D' },
    { name: 'LF in title', input: content({ title: 'Hi\nBcc: x@example.com' }), pointer: '/title', char: 'U+000A' },
    {
      name: 'CR in custom subject',
      input: content({ custom: { subject: 'Hi\rX-Injected: 1', text: 'Body' } }),
      pointer: '/customBody/email/subject',
      char: 'U+000D',
    },
    {
      name: 'LF in fromName',
      input: content({ options: { fromName: 'ACME\nReply-To: evil@example.com' } }),
      pointer: '/channelOptions/email/fromName',
      char: 'U+000A',
    },
    { name: 'NUL in title', input: content({ title: 'Hi\u0000there' }), pointer: '/title', char: 'U+0000' },
    { name: 'tab in fromName', input: content({ options: { fromName: 'ACME\tNews' } }), pointer: '/channelOptions/email/fromName', char: 'U+0009' },
    { name: 'line separator in title', input: content({ title: 'Hi\u2028there' }), pointer: '/title', char: 'U+2028' },
  ];

  for (const { name, input, pointer, char } of headerInjections) {
    it(`rejects ${name}`, () => {
      const errors = validateEmailContent(input);

      expect(errors).toHaveLength(1);
      expect(errors[0]!.pointer).toBe(pointer);
      expect(errors[0]!.message).toContain(char);
    });
  }

  it('accepts line breaks in text and html bodies', () => {
    const errors = validateEmailContent(content({ custom: { text: 'Line 1\r\nLine 2', html: '<p>a</p>\n<p>b</p>' } }));

    expect(errors).toEqual([]);
  });

  it('ignores an invalid title when custom subject replaces it', () => {
    const errors = validateEmailContent(content({ title: 'Hi\nthere', custom: { subject: 'Clean' } }));

    expect(errors).toEqual([]);
  });

  it('accepts a subject at the length limit', () => {
    const errors = validateEmailContent(content({ title: 'a'.repeat(MAX_SUBJECT_LENGTH) }));

    expect(errors).toEqual([]);
  });

  it('rejects a subject over the length limit', () => {
    const errors = validateEmailContent(content({ custom: { subject: 'ü'.repeat(MAX_SUBJECT_LENGTH + 1) } }));

    expect(errors).toEqual([
      { pointer: '/customBody/email/subject', message: `is ${MAX_SUBJECT_LENGTH + 1} characters long, but the maximum is ${MAX_SUBJECT_LENGTH}` },
    ]);
  });

  it('counts characters, not UTF-16 units, for the limit', () => {
    const errors = validateEmailContent(content({ title: '📦'.repeat(MAX_SUBJECT_LENGTH) }));

    expect(errors).toEqual([]);
  });

  it('rejects a fromName over 256 characters', () => {
    const errors = validateEmailContent(content({ options: { fromName: 'n'.repeat(257) } }));

    expect(errors.map((error) => error.pointer)).toEqual(['/channelOptions/email/fromName']);
  });

  const typeErrors: Array<{ name: string; input: ChannelContent; pointer: string; message: string }> = [
    {
      name: 'numeric subject',
      input: content({ custom: { subject: 42, text: 'x' } }),
      pointer: '/customBody/email/subject',
      message: 'must be a string, got number',
    },
    {
      name: 'array html',
      input: content({ custom: { html: ['<p>'] } }),
      pointer: '/customBody/email/html',
      message: 'must be a string, got array',
    },
    {
      name: 'object fromName',
      input: content({ options: { fromName: { first: 'A' } } }),
      pointer: '/channelOptions/email/fromName',
      message: 'must be a string, got object',
    },
    {
      name: 'unknown custom field',
      input: content({ custom: { text: 'x', 'a/b~c': 1 } }),
      pointer: '/customBody/email/a~1b~0c',
      message: 'is not a supported field (allowed: subject, text, html)',
    },
    {
      name: 'unknown option',
      input: content({ options: { replyTo: 'a@example.com' } }),
      pointer: '/channelOptions/email/replyTo',
      message: 'is not a supported field (allowed: fromName)',
    },
    {
      name: 'empty custom body',
      input: content({ custom: {} }),
      pointer: '/customBody/email',
      message: 'must set at least one of subject, text, html',
    },
  ];

  for (const { name, input, pointer, message } of typeErrors) {
    it(`rejects ${name}`, () => {
      expect(validateEmailContent(input)).toContainEqual({ pointer, message });
    });
  }

  it('lists every invalid field', () => {
    const errors = validateEmailContent(
      content({ custom: { subject: 'a\nb', html: 5 }, options: { fromName: 'c\rd' } }),
    );

    expect(errors.map((error) => error.pointer).sort()).toEqual([
      '/channelOptions/email/fromName',
      '/customBody/email/html',
      '/customBody/email/subject',
    ]);
  });
});

describe('htmlToText', () => {
  const cases: Array<{ name: string; html: string; text: string }> = [
    { name: 'collapses source whitespace', html: '<p>one\n   two</p>', text: 'one two' },
    { name: 'turns br into a line break', html: 'a<br>b<br/>c', text: 'a\nb\nc' },
    { name: 'separates paragraphs', html: '<p>a</p><p>b</p>', text: 'a\n\nb' },
    { name: 'drops script, style and head', html: '<head><title>T</title></head><style>p{}</style><script>x()</script>Hi', text: 'Hi' },
    { name: 'drops comments', html: 'a<!-- hidden -->b', text: 'ab' },
    { name: 'lists items', html: '<ul><li>one</li><li>two</li></ul>', text: '- one\n- two' },
    { name: 'decodes entities', html: '&lt;b&gt; &amp; &quot;q&quot; &#233; &#x1F4E6; &nbsp;x', text: '<b> & "q" é 📦 x' },
    { name: 'keeps unknown entities', html: '&bogus; &#0;', text: '&bogus; \uFFFD' },
    { name: 'omits a link target equal to its text', html: '<a href="https://example.com">https://example.com</a>', text: 'https://example.com' },
    { name: 'omits fragment links', html: '<a href="#top">Top</a>', text: 'Top' },
    { name: 'keeps a lone less-than sign', html: 'a < b', text: 'a < b' },
    { name: 'ends at an unclosed script', html: 'a<script>never closed', text: 'a' },
  ];

  for (const { name, html, text } of cases) {
    it(name, () => {
      expect(htmlToText(html)).toBe(text);
    });
  }
});
