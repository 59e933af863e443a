import { characterCount, isRecord, type GraphContext, type HandledSend } from './graph-context.js';
import { graphError, GRAPH_ERRORS } from './graph-errors.js';
import { messengerDeliveryPayload, messengerReadPayload, newMid } from './graph-payloads.js';

/** Send API limit on `message.text`, in characters. */
const MAX_TEXT_LENGTH = 2000;
const MESSAGING_TYPES = new Set(['RESPONSE', 'UPDATE', 'MESSAGE_TAG']);

/**
 * Handles `POST /{version}/me/messages` after the page token was checked.
 *
 * Checks the request shape (rejected with error 100), rejects `psid-unavailable` with error
 * 551, and responds for every other recipient with `{ recipient_id, message_id }` followed by a
 * `message_deliveries` webhook, and for `psid-delivered` a `message_reads` webhook.
 *
 * NOTE: the sandbox does not enforce Messenger's 24-hour standard messaging window or the
 * rules of message tags.
 */
export function handleMessengerSend(context: GraphContext, body: unknown): HandledSend {
  const recipient = isRecord(body) && isRecord(body['recipient']) ? body['recipient']['id'] : undefined;
  const psid = typeof recipient === 'string' ? recipient : null;
  const invalid = findInvalidParameter(body);
  if (invalid !== null) {
    return { ...graphError(GRAPH_ERRORS.invalidParameter, `(#100) ${invalid}`), to: psid, providerMessageId: null };
  }
  const to = psid as string;

  const behaviour = context.recipients.messenger(to);
  if (behaviour.kind === 'unavailable') {
    return { ...graphError(GRAPH_ERRORS.personUnavailable), to, providerMessageId: null };
  }

  const mid = newMid();
  context.webhooks.postLater(context.statusDelayMs, { channel: 'fbMessenger', event: 'message_deliveries', providerMessageId: mid }, () =>
    messengerDeliveryPayload(context.pageId, to, [mid], Date.now()),
  );
  if (behaviour.read) {
    context.webhooks.postLater(context.statusDelayMs + context.readDelayMs, { channel: 'fbMessenger', event: 'message_reads', providerMessageId: mid }, () =>
      messengerReadPayload(context.pageId, to, Date.now()),
    );
  }
  return { status: 200, body: { recipient_id: to, message_id: mid }, to, providerMessageId: mid };
}

/** Returns why the Send API would reject the request with error 100, or null. */
function findInvalidParameter(body: unknown): string | null {
  if (!isRecord(body)) {
    return 'The request body must be a JSON object.';
  }
  const recipient = body['recipient'];
  if (!isRecord(recipient) || typeof recipient['id'] !== 'string' || recipient['id'] === '') {
    return 'The parameter recipient is required and must contain an id.';
  }
  const messagingType = body['messaging_type'];
  if (typeof messagingType !== 'string' || !MESSAGING_TYPES.has(messagingType)) {
    return 'The parameter messaging_type is required and must be RESPONSE, UPDATE or MESSAGE_TAG.';
  }
  if (messagingType === 'MESSAGE_TAG' && (typeof body['tag'] !== 'string' || body['tag'] === '')) {
    return 'The parameter tag is required when messaging_type is MESSAGE_TAG.';
  }

  const message = body['message'];
  if (!isRecord(message)) {
    return 'The parameter message is required.';
  }
  const text = message['text'];
  const attachment = message['attachment'];
  if ((text === undefined) === (attachment === undefined)) {
    return 'The message must contain exactly one of text and attachment.';
  }
  if (text !== undefined) {
    if (typeof text !== 'string' || text === '') {
      return 'Param message[text] must be a non-empty UTF-8 encoded string.';
    }
    if (characterCount(text) > MAX_TEXT_LENGTH) {
      return `Length of param message[text] must be less than or equal to ${MAX_TEXT_LENGTH}.`;
    }
  }
  if (attachment !== undefined && (!isRecord(attachment) || typeof attachment['type'] !== 'string' || !isRecord(attachment['payload']))) {
    return 'Param message[attachment] must contain a type and a payload object.';
  }
  return null;
}
