import type { ChannelContent } from '../types.js';
import { htmlToText } from './html-text.js';

/** RFC 5322 section 2.1.1 limits a header line to 998 characters, and the subject gets the same cap. */
export const MAX_SUBJECT_LENGTH = 998;
/** Cap on the sender display name, in characters. No standard sets one. It keeps the From header readable. */
export const MAX_FROM_NAME_LENGTH = 256;

/** Fields of `customBody.email`. */
export const CUSTOM_BODY_FIELDS = ['subject', 'text', 'html'] as const;
/** Fields of `channelOptions.email`. */
export const CHANNEL_OPTION_FIELDS = ['fromName'] as const;

/** One invalid field, located by JSON pointer from the root of the send request. */
export interface EmailContentError {
  pointer: string;
  message: string;
}

export interface RenderedEmail {
  from: { name: string; address: string };
  subject: string;
  text: string;
  html: string | null;
}

export type RenderEmailResult = { ok: true; mail: RenderedEmail } | { ok: false; errors: EmailContentError[] };

export interface RenderEmailOptions {
  /** The configured sender address, already normalised. */
  fromAddress: string;
  /** Sender display name used when the request sets no `channelOptions.email.fromName`. */
  defaultFromName?: string | null;
}

/** Header values must fit on one line: CR and LF would start a new header (header injection). */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Builds the email for one message.
 *
 * - Subject: `customBody.email.subject`, else `title`, else an empty subject.
 * - Body: when `customBody.email` sets `text` or `html`, those replace the generated body and
 *   `body` is not used. A custom body with only `html` gets a plain-text alternative derived
 *   from the HTML (see `htmlToText`), so clients that show text still show the message.
 *   Without a custom body, `body` is the text part and there is no HTML part.
 * - From: the configured address, with `channelOptions.email.fromName` or else
 *   `defaultFromName` as display name.
 *
 * Returns the same errors as `validateEmailContent` when the content is invalid. Merge fields
 * are applied before rendering, so a profile property can make content invalid that passed
 * validation when the request was accepted.
 */
export function renderEmail(content: ChannelContent, options: RenderEmailOptions): RenderEmailResult {
  const errors = validateEmailContent(content);
  if (errors.length > 0) {
    return { ok: false, errors };
  }

  const custom = content.custom ?? {};
  const customSubject = optionalString(custom['subject']);
  const customText = optionalString(custom['text']);
  const customHtml = optionalString(custom['html']);
  const fromName = optionalString(content.options?.['fromName']);

  const subject = customSubject ?? content.title ?? '';
  let text = content.body;
  let html: string | null = null;
  if (customText !== undefined || customHtml !== undefined) {
    html = customHtml ?? null;
    text = customText ?? htmlToText(customHtml ?? '');
  }

  return {
    ok: true,
    mail: {
      from: { name: fromName ?? options.defaultFromName ?? '', address: options.fromAddress },
      subject,
      text,
      html,
    },
  };
}

/**
 * Checks the email-specific parts of a message: the `customBody.email` and
 * `channelOptions.email` fields and their types, and the subject and sender name, which
 * become header values and so must be one line of at most their maximum length.
 * `title` is checked only when it becomes the subject. Returns an empty list when the
 * content is valid.
 *
 * @example
 * validateEmailContent({ body: 'Hi', title: 'Order\r\nBcc: x@example.com', custom: null, options: null });
 * // [{ pointer: '/title', message: 'contains the control character U+000D at index 5, but ...' }]
 */
export function validateEmailContent(content: ChannelContent): EmailContentError[] {
  const errors: EmailContentError[] = [];
  const custom = content.custom;
  const options = content.options;

  if (custom !== null) {
    checkKnownFields(custom, CUSTOM_BODY_FIELDS, '/customBody/email', errors);
    for (const field of CUSTOM_BODY_FIELDS) {
      checkStringOrAbsent(custom[field], `/customBody/email/${field}`, errors);
    }
    if (CUSTOM_BODY_FIELDS.every((field) => optionalString(custom[field]) === undefined)) {
      errors.push({ pointer: '/customBody/email', message: 'must set at least one of subject, text, html' });
    }
  }
  if (options !== null) {
    checkKnownFields(options, CHANNEL_OPTION_FIELDS, '/channelOptions/email', errors);
    checkStringOrAbsent(options['fromName'], '/channelOptions/email/fromName', errors);
  }

  const customSubject = optionalString(custom?.['subject']);
  if (customSubject !== undefined) {
    checkHeaderValue(customSubject, MAX_SUBJECT_LENGTH, '/customBody/email/subject', errors);
  } else if (content.title !== null) {
    checkHeaderValue(content.title, MAX_SUBJECT_LENGTH, '/title', errors);
  }
  const fromName = optionalString(options?.['fromName']);
  if (fromName !== undefined) {
    checkHeaderValue(fromName, MAX_FROM_NAME_LENGTH, '/channelOptions/email/fromName', errors);
  }
  return errors;
}

/**
 * Returns what is wrong with a header value (a control character, or more than `maxLength`
 * characters), or null when it is fine.
 */
export function findHeaderValueProblem(value: string, maxLength: number): string | null {
  const control = CONTROL_CHARACTER.exec(value);
  if (control !== null) {
    const hex = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `contains the control character U+${hex} at index ${control.index}, but header values must be one line without control characters`;
  }
  const length = [...value].length;
  if (length > maxLength) {
    return `is ${length} characters long, but the maximum is ${maxLength}`;
  }
  return null;
}

function checkHeaderValue(value: string, maxLength: number, pointer: string, errors: EmailContentError[]): void {
  const problem = findHeaderValueProblem(value, maxLength);
  if (problem !== null) {
    errors.push({ pointer, message: problem });
  }
}

function checkKnownFields(
  record: Record<string, unknown>,
  allowed: readonly string[],
  pointer: string,
  errors: EmailContentError[],
): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      errors.push({
        pointer: `${pointer}/${escapePointerToken(key)}`,
        message: `is not a supported field (allowed: ${allowed.join(', ')})`,
      });
    }
  }
}

function checkStringOrAbsent(value: unknown, pointer: string, errors: EmailContentError[]): void {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    errors.push({ pointer, message: `must be a string, got ${Array.isArray(value) ? 'array' : typeof value}` });
  }
}

/** Returns the value when it is a string, and undefined when it is absent, null or of another type. */
function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** RFC 6901: '~' and '/' inside a pointer token are written '~0' and '~1'. */
function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
