/**
 * Just enough RFC 5322 header parsing for the sandbox relay to show what it received:
 * unfolding, the first Subject and Message-ID, and RFC 2047 encoded-words in the subject.
 * It is no general MIME parser.
 */

export interface ParsedHeaders {
  subject: string | null;
  messageId: string | null;
}

/** One encoded-word: `=?charset?B|Q?text?=`. A charset may carry an RFC 2231 language suffix. */
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** Reads the Subject (decoded) and Message-ID headers from the header section of `raw`. */
export function parseHeaders(raw: string): ParsedHeaders {
  const end = raw.search(/\r?\n\r?\n/);
  const section = end < 0 ? raw : raw.slice(0, end);
  // Unfolding removes the line break before a space or tab and keeps the whitespace.
  const lines = section.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/);

  let subject: string | null = null;
  let messageId: string | null = null;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'subject' && subject === null) {
      subject = decodeEncodedWords(value);
    } else if (name === 'message-id' && messageId === null) {
      messageId = value;
    }
  }
  return { subject, messageId };
}

/**
 * Decodes the RFC 2047 encoded-words in a header value. Whitespace between two adjacent
 * encoded-words is dropped, and adjacent words of one charset are decoded together, so a
 * multi-byte character split across two words comes out whole. A word in an unknown charset
 * stays as it is.
 */
export function decodeEncodedWords(value: string): string {
  const parts: string[] = [];
  let pending: { charset: string; bytes: Buffer[]; source: string[] } | null = null;
  let lastEnd = 0;

  const flush = (): void => {
    if (pending !== null) {
      parts.push(decodeBytes(pending.charset, Buffer.concat(pending.bytes)) ?? pending.source.join(''));
      pending = null;
    }
  };

  for (const match of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(lastEnd, match.index);
    const charset = match[1]!.split('*')[0]!.toLowerCase();
    const bytes = decodeWordBytes(match[2]!, match[3]!);
    const adjacent = pending !== null && /^[ \t\r\n]*$/.test(between);
    if (!adjacent) {
      flush();
      parts.push(between);
    }
    if (pending !== null && pending.charset === charset) {
      pending.bytes.push(bytes);
      pending.source.push(match[0]);
    } else {
      flush();
      pending = { charset, bytes: [bytes], source: [match[0]] };
    }
    lastEnd = match.index + match[0].length;
  }
  flush();
  parts.push(value.slice(lastEnd));
  return parts.join('');
}

function decodeWordBytes(encoding: string, text: string): Buffer {
  if (encoding === 'B' || encoding === 'b') {
    return Buffer.from(text, 'base64');
  }
  // Q encoding: '_' is a space and =XX is one byte in hex.
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const hex = text.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (char === '_') {
      bytes.push(0x20);
    } else {
      bytes.push(char.charCodeAt(0) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeBytes(charset: string, bytes: Buffer): string | null {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return null;
  }
}
