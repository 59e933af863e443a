/**
 * Checks of `customBody.whatsApp`, a Cloud API message object that Cascade passes through.
 * The checks catch the mistakes the Cloud API would reject anyway (a missing sub-object, a
 * text over its limit), so such a message fails before a request is spent on it. They do not
 * repeat every rule of the Cloud API, which still rejects the rest with its own error.
 */

/** One invalid field, located by JSON pointer from the root of the send request. */
export interface WhatsAppContentError {
  pointer: string;
  message: string;
}

/** Maximum length of a text message body, in characters (Cloud API limit). */
export const MAX_TEXT_LENGTH = 4096;
/** Maximum length of a media caption and of an interactive message body, in characters (Cloud API limit). */
export const MAX_CAPTION_LENGTH = 1024;
/** Maximum size of `customBody.whatsApp` serialised as JSON, in UTF-8 bytes. A bound chosen by Cascade, not by Meta. */
export const MAX_NATIVE_MESSAGE_BYTES = 64 * 1024;

/** Message types that `customBody.whatsApp.type` may name. Each has a sub-object under the same key. */
export const NATIVE_MESSAGE_TYPES = [
  'text',
  'template',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'interactive',
  'location',
  'contacts',
  'reaction',
] as const;
export type NativeMessageType = (typeof NATIVE_MESSAGE_TYPES)[number];

/** Fields the channel sets itself; a custom body that sets them has them replaced. */
export const CHANNEL_SET_FIELDS = ['messaging_product', 'recipient_type', 'to'] as const;

const MEDIA_TYPES: ReadonlySet<string> = new Set(['image', 'video', 'audio', 'document', 'sticker']);
/** Media types that take a caption. Audio and stickers do not. */
const CAPTIONED_MEDIA_TYPES: ReadonlySet<string> = new Set(['image', 'video', 'document']);
const INTERACTIVE_TYPES = [
  'button',
  'list',
  'cta_url',
  'flow',
  'product',
  'product_list',
  'catalog_message',
  'location_request_message',
] as const;

const POINTER = '/customBody/whatsApp';

/**
 * Checks a native message object. A missing `type` means `text`, as in the Cloud API.
 * Returns an empty list when the object may be sent.
 *
 * @example
 * validateNativeMessage({ type: 'template', template: { name: 'parcel_update' } });
 * // [{ pointer: '/customBody/whatsApp/template/language', message: 'is missing; ...' }]
 */
export function validateNativeMessage(message: Record<string, unknown>): WhatsAppContentError[] {
  const errors: WhatsAppContentError[] = [];
  const bytes = Buffer.byteLength(JSON.stringify(message), 'utf8');
  if (bytes > MAX_NATIVE_MESSAGE_BYTES) {
    errors.push({ pointer: POINTER, message: `is ${bytes} bytes as JSON, but the maximum is ${MAX_NATIVE_MESSAGE_BYTES}` });
    return errors;
  }

  const type = message['type'] ?? 'text';
  if (typeof type !== 'string' || !(NATIVE_MESSAGE_TYPES as readonly string[]).includes(type)) {
    errors.push({
      pointer: `${POINTER}/type`,
      message: `must be one of ${NATIVE_MESSAGE_TYPES.join(', ')}, got ${describe(type)}`,
    });
    return errors;
  }

  const payload = message[type];
  const pointer = `${POINTER}/${type}`;
  if (type === 'contacts') {
    checkContacts(payload, pointer, errors);
    return errors;
  }
  if (!isRecord(payload)) {
    errors.push({ pointer, message: `is ${payload === undefined ? 'missing' : describe(payload)}, but a "${type}" message needs a "${type}" object` });
    return errors;
  }

  switch (type as NativeMessageType) {
    case 'text':
      checkText(payload, pointer, errors);
      break;
    case 'template':
      checkTemplate(payload, pointer, errors);
      break;
    case 'interactive':
      checkInteractive(payload, pointer, errors);
      break;
    case 'location':
      checkLocation(payload, pointer, errors);
      break;
    case 'reaction':
      requireString(payload, 'message_id', pointer, errors);
      requireString(payload, 'emoji', pointer, errors, { allowEmpty: true });
      break;
    default:
      if (MEDIA_TYPES.has(type)) {
        checkMedia(type, payload, pointer, errors);
      }
  }
  return errors;
}

/** Counts characters as Unicode code points, so an emoji counts once. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) {
    count += 1;
  }
  return count;
}

function checkText(text: Record<string, unknown>, pointer: string, errors: WhatsAppContentError[]): void {
  const body = requireString(text, 'body', pointer, errors);
  if (body !== null) {
    checkLength(body, MAX_TEXT_LENGTH, `${pointer}/body`, errors);
  }
  const preview = text['preview_url'];
  if (preview !== undefined && typeof preview !== 'boolean') {
    errors.push({ pointer: `${pointer}/preview_url`, message: `must be a boolean, got ${describe(preview)}` });
  }
}

function checkTemplate(template: Record<string, unknown>, pointer: string, errors: WhatsAppContentError[]): void {
  requireString(template, 'name', pointer, errors);
  const language = template['language'];
  if (!isRecord(language)) {
    errors.push({
      pointer: `${pointer}/language`,
      message: `is ${language === undefined ? 'missing' : describe(language)}; give an object with the template's language code, such as { "code": "en_US" }`,
    });
  } else {
    requireString(language, 'code', `${pointer}/language`, errors);
  }

  const components = template['components'];
  if (components === undefined) {
    return;
  }
  if (!Array.isArray(components)) {
    errors.push({ pointer: `${pointer}/components`, message: `must be an array, got ${describe(components)}` });
    return;
  }
  components.forEach((component: unknown, index) => {
    const componentPointer = `${pointer}/components/${index}`;
    if (!isRecord(component)) {
      errors.push({ pointer: componentPointer, message: `must be an object, got ${describe(component)}` });
      return;
    }
    requireString(component, 'type', componentPointer, errors);
    checkParameters(component['parameters'], `${componentPointer}/parameters`, errors);
  });
}

function checkParameters(parameters: unknown, pointer: string, errors: WhatsAppContentError[]): void {
  if (parameters === undefined) {
    return;
  }
  if (!Array.isArray(parameters)) {
    errors.push({ pointer, message: `must be an array, got ${describe(parameters)}` });
    return;
  }
  parameters.forEach((parameter: unknown, index) => {
    const parameterPointer = `${pointer}/${index}`;
    if (!isRecord(parameter)) {
      errors.push({ pointer: parameterPointer, message: `must be an object, got ${describe(parameter)}` });
      return;
    }
    const type = requireString(parameter, 'type', parameterPointer, errors);
    if (type === 'text') {
      requireString(parameter, 'text', parameterPointer, errors, { allowEmpty: true });
    }
  });
}

function checkMedia(type: string, media: Record<string, unknown>, pointer: string, errors: WhatsAppContentError[]): void {
  const id = media['id'];
  const link = media['link'];
  if ((id === undefined) === (link === undefined)) {
    errors.push({ pointer, message: 'must set exactly one of "id" (an uploaded media id) and "link" (an http or https URL)' });
  } else if (id !== undefined) {
    requireString(media, 'id', pointer, errors);
  } else if (typeof link !== 'string' || !isHttpUrl(link)) {
    errors.push({ pointer: `${pointer}/link`, message: `must be an http or https URL, got ${describe(link)}` });
  }

  const caption = media['caption'];
  if (caption === undefined) {
    return;
  }
  if (!CAPTIONED_MEDIA_TYPES.has(type)) {
    errors.push({ pointer: `${pointer}/caption`, message: `is not supported on ${type} messages; only image, video and document take a caption` });
  } else if (typeof caption !== 'string') {
    errors.push({ pointer: `${pointer}/caption`, message: `must be a string, got ${describe(caption)}` });
  } else {
    checkLength(caption, MAX_CAPTION_LENGTH, `${pointer}/caption`, errors);
  }
}

function checkInteractive(interactive: Record<string, unknown>, pointer: string, errors: WhatsAppContentError[]): void {
  const type = interactive['type'];
  if (typeof type !== 'string' || !(INTERACTIVE_TYPES as readonly string[]).includes(type)) {
    errors.push({ pointer: `${pointer}/type`, message: `must be one of ${INTERACTIVE_TYPES.join(', ')}, got ${describe(type)}` });
  }
  if (!isRecord(interactive['action'])) {
    errors.push({ pointer: `${pointer}/action`, message: `is ${interactive['action'] === undefined ? 'missing' : describe(interactive['action'])}, but an interactive message needs an "action" object` });
  }
  const body = interactive['body'];
  if (body === undefined) {
    return;
  }
  if (!isRecord(body)) {
    errors.push({ pointer: `${pointer}/body`, message: `must be an object with a "text" string, got ${describe(body)}` });
    return;
  }
  const text = requireString(body, 'text', `${pointer}/body`, errors);
  if (text !== null) {
    checkLength(text, MAX_CAPTION_LENGTH, `${pointer}/body/text`, errors);
  }
}

function checkLocation(location: Record<string, unknown>, pointer: string, errors: WhatsAppContentError[]): void {
  checkCoordinate(location['latitude'], 90, `${pointer}/latitude`, errors);
  checkCoordinate(location['longitude'], 180, `${pointer}/longitude`, errors);
  for (const field of ['name', 'address']) {
    const value = location[field];
    if (value !== undefined && typeof value !== 'string') {
      errors.push({ pointer: `${pointer}/${field}`, message: `must be a string, got ${describe(value)}` });
    }
  }
}

function checkCoordinate(value: unknown, bound: number, pointer: string, errors: WhatsAppContentError[]): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > bound) {
    errors.push({ pointer, message: `must be a number from -${bound} to ${bound}, got ${describe(value)}` });
  }
}

function checkContacts(contacts: unknown, pointer: string, errors: WhatsAppContentError[]): void {
  if (!Array.isArray(contacts) || contacts.length === 0) {
    errors.push({ pointer, message: `must be a non-empty array of contact objects, got ${describe(contacts)}` });
    return;
  }
  contacts.forEach((contact: unknown, index) => {
    const contactPointer = `${pointer}/${index}`;
    if (!isRecord(contact)) {
      errors.push({ pointer: contactPointer, message: `must be an object, got ${describe(contact)}` });
      return;
    }
    const name = contact['name'];
    if (!isRecord(name)) {
      errors.push({ pointer: `${contactPointer}/name`, message: 'is missing; give an object with "formatted_name"' });
      return;
    }
    requireString(name, 'formatted_name', `${contactPointer}/name`, errors);
  });
}

/** Returns the field when it is a string (non-empty unless allowed), else records an error and returns null. */
function requireString(
  record: Record<string, unknown>,
  field: string,
  pointer: string,
  errors: WhatsAppContentError[],
  options: { allowEmpty?: boolean } = {},
): string | null {
  const value = record[field];
  if (typeof value === 'string' && (options.allowEmpty === true || value.trim() !== '')) {
    return value;
  }
  let problem = `must be a string, got ${describe(value)}`;
  if (value === undefined) {
    problem = 'is missing';
  } else if (typeof value === 'string') {
    problem = 'is empty';
  }
  errors.push({ pointer: `${pointer}/${escapePointerToken(field)}`, message: problem });
  return null;
}

function checkLength(value: string, maxLength: number, pointer: string, errors: WhatsAppContentError[]): void {
  const length = characterCount(value);
  if (length > maxLength) {
    errors.push({ pointer, message: `is ${length} characters long, but the maximum is ${maxLength}` });
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** RFC 6901: '~' and '/' inside a pointer token are written '~0' and '~1'. */
function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
