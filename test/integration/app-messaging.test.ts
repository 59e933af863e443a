import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../src/channels/app/protocol.js';
import { api, startTestServer, waitForMessage, type TestServer } from '../helpers/server.js';
import { appApi, appToken, openAppSocket } from './app-client.js';

interface Receipt { state: string }
interface Attempt { number: number; status: string; providerMessageId: string | null; errorCode: string | null; receipts: Receipt[] }
interface Step { channel: string; status: string; reason: string | null; attempts: Attempt[] }
interface MessageBody {
  messageId: string;
  status: string;
  channel: string | null;
  completedAt: string | null;
  steps: Step[];
}

type MessageFrame = Extract<ServerFrame, { type: 'message' }>;

const READ_OR_SMS = [{ channel: 'appMessaging', fallbackUnless: 'read', fallbackAfter: 'PT2S' }, 'sms'];

async function send(server: TestServer, body: Record<string, unknown>): Promise<string> {
  const created = await api<MessageBody>(server, 'POST', '/v1/messages', body);
  expect(created.status).toBe(201);
  return created.body.messageId;
}

function smsSubmitsTo(server: TestServer, phoneNumber: string) {
  return server.sandbox.smsc!.submits().filter((submit) => submit.destination.endsWith(phoneNumber.replace('+', '')));
}

describe('app messaging over real sockets', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('connected app receives, acks and delivers', async () => {
    const { token, appUserId } = await appToken(server, 'ada');
    const app = await openAppSocket(server, token);
    expect(app.ws.protocol).toBe('cascade.v1');
    expect(await app.next('ready')).toEqual({ type: 'ready', appUserId, lastSeq: 0 });

    const messageId = await send(server, { body: 'Your parcel arrives today', title: 'Delivery', to: { profileId: 'ada' }, rules: ['appMessaging'] });

    const frame = await app.next('message');
    expect(frame.messageId).toBe(messageId);
    expect(frame.body).toBe('Your parcel arrives today');
    expect(frame.title).toBe('Delivery');
    expect(frame.data).toBeNull();
    expect(frame.seq).toBeGreaterThan(0);
    expect(Date.parse(frame.sentOn)).not.toBeNaN();
    expect(frame.deliveredAt).toBeNull();

    app.send({ type: 'ack', messageId });
    const message = await waitForMessage<MessageBody>(server, messageId);
    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('appMessaging');
    const attempt = message.steps[0]!.attempts[0]!;
    expect(attempt.status).toBe('delivered');
    expect(attempt.providerMessageId).toBe(`${messageId}_0_1`);
    expect(attempt.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    await app.close();
  });

  it('unread message falls back to SMS', async () => {
    const phoneNumber = '+12025550141';
    const { token } = await appToken(server, 'ben');
    const app = await openAppSocket(server, token);
    await app.next('ready');

    const messageId = await send(server, { body: 'Your code is 4417', to: { profileId: 'ben', phoneNumber }, rules: READ_OR_SMS });
    const frame = await app.next('message');
    expect(frame.messageId).toBe(messageId);
    // Delivered to the app but never read: the read condition times out after PT2S.
    app.send({ type: 'ack', messageId });

    const message = await waitForMessage<MessageBody>(server, messageId);
    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    expect(message.steps.map((step) => [step.channel, step.status])).toEqual([
      ['appMessaging', 'timed-out'],
      ['sms', 'succeeded'],
    ]);
    expect(message.steps[0]!.attempts[0]!.status).toBe('delivered');
    expect(smsSubmitsTo(server, phoneNumber)).toHaveLength(1);
    await app.close();
  });

  it('read message ends read without SMS', async () => {
    const phoneNumber = '+12025550142';
    const { token } = await appToken(server, 'cleo');
    const app = await openAppSocket(server, token);
    await app.next('ready');

    const messageId = await send(server, { body: 'Your code is 5521', to: { profileId: 'cleo', phoneNumber }, rules: READ_OR_SMS });
    await app.next('message');
    app.send({ type: 'read', messageId });

    const message = await waitForMessage<MessageBody>(server, messageId);
    expect(message.status).toBe('read');
    expect(message.channel).toBe('appMessaging');
    expect(message.steps.map((step) => [step.channel, step.status])).toEqual([
      ['appMessaging', 'succeeded'],
      ['sms', 'cancelled'],
    ]);
    expect(message.steps[0]!.attempts[0]!.receipts.map((receipt) => receipt.state)).toEqual(['read']);
    expect(smsSubmitsTo(server, phoneNumber)).toEqual([]);
    await app.close();
  });

  it('reconnect with after resumes without loss or duplicates', async () => {
    const { token } = await appToken(server, 'dana');
    // A device without a push subscription reads its inbox, so the user stays reachable offline.
    const device = await appApi(server, token, 'PUT', '/v1/app/devices/phone-1', {});
    expect(device.status).toBe(200);

    const first = await openAppSocket(server, token);
    await first.next('ready');
    const m1 = await send(server, { body: 'one', to: { profileId: 'dana' }, rules: ['appMessaging'] });
    const frame1 = await first.next('message');
    expect(frame1.messageId).toBe(m1);
    first.send({ type: 'ack', messageId: m1 });
    await waitForMessage<MessageBody>(server, m1);
    await first.close();

    const offline = [
      await send(server, { body: 'two', to: { profileId: 'dana' }, rules: ['appMessaging'] }),
      await send(server, { body: 'three', to: { profileId: 'dana' }, rules: ['appMessaging'] }),
    ];
    for (const messageId of offline) {
      const waiting = await waitForMessage<MessageBody>(server, messageId, (message) => message.status === 'sent');
      expect(waiting.steps[0]!.status).toBe('waiting');
    }

    const second = await openAppSocket(server, token, { after: frame1.seq });
    const resumed = [await second.next(), await second.next(), await second.next()];
    expect(resumed.map((frame) => frame.type)).toEqual(['message', 'message', 'ready']);
    const [frame2, frame3] = resumed.filter((frame): frame is MessageFrame => frame.type === 'message') as [MessageFrame, MessageFrame];
    const ready = resumed[2] as Extract<ServerFrame, { type: 'ready' }>;
    expect([frame2.messageId, frame3.messageId]).toEqual(offline);
    expect([frame2.body, frame3.body]).toEqual(['two', 'three']);
    expect(frame2.seq).toBeGreaterThan(frame1.seq);
    expect(frame3.seq).toBeGreaterThan(frame2.seq);
    expect(ready.lastSeq).toBe(frame3.seq);

    for (const messageId of offline) second.send({ type: 'ack', messageId });
    for (const messageId of offline) {
      expect((await waitForMessage<MessageBody>(server, messageId)).status).toBe('delivered');
    }
    // Nothing arrived twice.
    const messageIds = second.frames.flatMap((frame) => (frame.type === 'message' ? [frame.messageId] : []));
    expect(messageIds).toEqual(offline);
    await second.close();
  });

  it('no socket and no device fails with no-device', async () => {
    const phoneNumber = '+12025550143';
    await appToken(server, 'eve');

    const messageId = await send(server, { body: 'Sign-in code 9931', to: { profileId: 'eve', phoneNumber }, rules: ['appMessaging', 'sms'] });

    const message = await waitForMessage<MessageBody>(server, messageId);
    expect(message.status).toBe('delivered');
    expect(message.channel).toBe('sms');
    const step = message.steps[0]!;
    expect(step.status).toBe('failed');
    expect(step.reason).toBe('permanent-error');
    expect(step.attempts.map((attempt) => [attempt.status, attempt.errorCode])).toEqual([['failed', 'no-device']]);
    // The message stays in the inbox for when the app opens.
    const inbox = await appApi<{ messages: Array<{ messageId: string }> }>(server, (await appToken(server, 'eve')).token, 'GET', '/v1/app/inbox');
    expect(inbox.body.messages.map((item) => item.messageId)).toEqual([messageId]);
  });

  it('two sockets both get the message and the first ack counts', async () => {
    const { token } = await appToken(server, 'ivy');
    const phone = await openAppSocket(server, token);
    const laptop = await openAppSocket(server, token);
    await phone.next('ready');
    await laptop.next('ready');

    const messageId = await send(server, { body: 'Table for two at 19:30', to: { profileId: 'ivy' }, rules: ['appMessaging'] });
    expect((await phone.next('message')).messageId).toBe(messageId);
    expect((await laptop.next('message')).messageId).toBe(messageId);

    phone.send({ type: 'ack', messageId });
    const delivered = await waitForMessage<MessageBody>(server, messageId);
    const before = await appApi<{ messages: Array<{ deliveredAt: string | null }> }>(server, token, 'GET', '/v1/app/inbox');

    laptop.send({ type: 'ack', messageId });
    // Frames of one socket are handled in order, so this error frame comes after the ack was handled.
    laptop.send({ type: 'probe' });
    expect((await laptop.next('error')).code).toBe('unknown-frame-type');

    const after = await appApi<{ messages: Array<{ deliveredAt: string | null }> }>(server, token, 'GET', '/v1/app/inbox');
    expect(after.body.messages[0]!.deliveredAt).toBe(before.body.messages[0]!.deliveredAt);
    const message = await waitForMessage<MessageBody>(server, messageId);
    expect(message.status).toBe('delivered');
    expect(message.steps[0]!.attempts[0]!.receipts.map((receipt) => receipt.state)).toEqual(['delivered']);
    expect(delivered.steps[0]!.attempts[0]!.receipts).toHaveLength(1);
    await phone.close();
    await laptop.close();
  });

  it('customBody data reaches the app', async () => {
    const { token } = await appToken(server, 'jon');
    const app = await openAppSocket(server, token);
    await app.next('ready');

    const created = await api<MessageBody>(server, 'POST', '/v1/messages', {
      body: 'Your order shipped',
      to: { profileId: 'jon' },
      rules: ['appMessaging'],
      customBody: { appMessaging: { data: { orderId: '88121' } } },
    });
    expect(created.status).toBe(201);
    const frame = await app.next('message');
    expect(frame.data).toEqual({ orderId: '88121' });
    await app.close();
  });
});
