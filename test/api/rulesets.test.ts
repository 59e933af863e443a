import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSendRequest } from '../../src/api/send-request.js';
import type { RuleSet } from '../../src/store/types.js';
import { call, countMessages, createTestApi, START, type TestApi } from './harness.js';

interface RuleSetJson {
  name: string;
  rules: unknown[];
  default: boolean;
  createdAt: string;
  updatedAt: string;
}

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: Array<{ pointer: string; detail: string }>;
}

interface MessageJson {
  messageId: string;
  request: Record<string, unknown>;
  steps: Array<{ channel: string; fallbackUnless: string; fallbackAfter: string | null }>;
}

const TO = { phoneNumber: '+12025550123', email: 'a@example.com' };

let api: TestApi;

beforeEach(async () => {
  api = await createTestApi();
});

afterEach(async () => {
  await api.close();
});

function putRuleSet(name: string, body: unknown) {
  return call(api, 'PUT', `/v1/rulesets/${name}`, { body });
}

async function getMessage(messageId: string): Promise<MessageJson> {
  const response = await call(api, 'GET', `/v1/messages/${messageId}`);
  expect(response.statusCode).toBe(200);
  return response.json<MessageJson>();
}

function errorsOf(response: { json<T>(): T }) {
  return response.json<Problem>().errors;
}

describe('rule set routes', () => {
  it('creates, replaces, reads, lists and deletes', async () => {
    const created = await putRuleSet('orders', { rules: ['sms', { channel: 'email', fallbackAfter: 'PT10M' }] });
    expect(created.statusCode).toBe(201);
    expect(created.json<RuleSetJson>()).toEqual({
      name: 'orders',
      rules: ['sms', { channel: 'email', fallbackAfter: 'PT10M' }],
      default: false,
      createdAt: new Date(START).toISOString(),
      updatedAt: new Date(START).toISOString(),
    });

    api.clock.now = START + 1000;
    const replaced = await putRuleSet('orders', { rules: ['email'] });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json<RuleSetJson>()).toMatchObject({ rules: ['email'], createdAt: new Date(START).toISOString(), updatedAt: new Date(START + 1000).toISOString() });

    const read = await call(api, 'GET', '/v1/rulesets/orders');
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(replaced.json());

    await putRuleSet('alerts', { rules: ['sms'] });
    const list = await call(api, 'GET', '/v1/rulesets');
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: RuleSetJson[] }>().items.map((item) => item.name)).toEqual(['alerts', 'orders']);

    const deleted = await call(api, 'DELETE', '/v1/rulesets/orders');
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await call(api, 'GET', '/v1/rulesets/orders')).statusCode).toBe(404);
    expect((await call(api, 'DELETE', '/v1/rulesets/orders')).statusCode).toBe(404);
  });

  it('answers 404 problem for an unknown rule set', async () => {
    const response = await call(api, 'GET', '/v1/rulesets/missing');

    expect(response.statusCode).toBe(404);
    expect(response.json<Problem>()).toMatchObject({ type: 'urn:cascade:problem:not-found', detail: 'Rule set missing was not found.' });
  });

  it('moves the default to the last rule set marked', async () => {
    await putRuleSet('first', { rules: ['sms'], default: true });
    await putRuleSet('second', { rules: ['email'], default: true });

    const first = await call(api, 'GET', '/v1/rulesets/first');
    const second = await call(api, 'GET', '/v1/rulesets/second');

    expect(first.json<RuleSetJson>().default).toBe(false);
    expect(second.json<RuleSetJson>().default).toBe(true);
  });

  it('keeps the default flag when replaced without it', async () => {
    await putRuleSet('main', { rules: ['sms'], default: true });

    const replaced = await putRuleSet('main', { rules: ['email'] });
    expect(replaced.json<RuleSetJson>().default).toBe(true);

    const cleared = await putRuleSet('main', { rules: ['email'], default: false });
    expect(cleared.json<RuleSetJson>().default).toBe(false);
  });

  it.each<[string, string, unknown, string, string]>([
    ['read on sms', 'r', { rules: [{ channel: 'sms', fallbackUnless: 'read' }] }, '/rules/0/fallbackUnless', 'read is not available on sms'],
    ['a repeated channel', 'r', { rules: ['sms', 'email', 'sms'] }, '/rules/2', 'repeats sms from /rules/0'],
    ['a zero fallbackAfter', 'r', { rules: [{ channel: 'sms', fallbackAfter: 'PT0S' }] }, '/rules/0/fallbackAfter', 'longer than zero'],
    ['an unknown channel', 'r', { rules: ['pigeon'] }, '/rules/0', 'got "pigeon"'],
    ['empty rules', 'r', { rules: [] }, '/rules', 'at least 1 item'],
    ['eleven rules', 'r', { rules: Array(11).fill('sms') }, '/rules', 'at most 10 items'],
    ['missing rules', 'r', { default: true }, '/rules', 'is required'],
    ['a string default', 'r', { rules: ['sms'], default: 'yes' }, '/default', 'boolean'],
    ['an unknown field', 'r', { rules: ['sms'], colour: 'red' }, '/colour', 'is not a known field'],
  ])('rejects %s with a pointer', async (_case, name, body, pointer, detail) => {
    const response = await putRuleSet(name, body);

    expect(response.statusCode).toBe(400);
    expect(errorsOf(response)).toContainEqual({ pointer, detail: expect.stringContaining(detail) });
    expect((await call(api, 'GET', '/v1/rulesets')).json<{ items: unknown[] }>().items).toEqual([]);
  });

  it.each<[string, string]>([
    ['a space', 'my%20rules'],
    ['65 characters', 'r'.repeat(65)],
    ['a colon', 'a:b'],
    ['a slash', 'a%2Fb'],
  ])('rejects a name with %s', async (_case, name) => {
    const response = await putRuleSet(name, { rules: ['sms'] });

    expect(response.statusCode).toBe(400);
    expect(response.json<Problem>().detail).toContain('path parameters');
    expect(errorsOf(response)).toEqual([{ pointer: '/name', detail: expect.stringContaining('letters, digits, dots, underscores or hyphens') }]);
  });

  it('accepts a name of 64 allowed characters', async () => {
    const name = `A-z_0.${'x'.repeat(58)}`;

    const response = await putRuleSet(name, { rules: ['sms'] });

    expect(response.statusCode).toBe(201);
    expect(response.json<RuleSetJson>().name).toBe(name);
  });
});

describe('sends with stored rule sets', () => {
  it('uses the steps of the named rule set', async () => {
    await putRuleSet('orders', { rules: [{ channel: 'sms', fallbackAfter: 'PT10M' }, 'email'] });

    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: TO, ruleSet: 'orders' } });

    expect(response.statusCode).toBe(201);
    expect(response.json<Record<string, unknown>>().ruleSet).toBe('orders');
    const message = await getMessage(response.json<MessageJson>().messageId);
    expect(message.steps.map((step) => [step.channel, step.fallbackUnless, step.fallbackAfter])).toEqual([
      ['sms', 'delivered', 'PT10M'],
      ['email', 'accepted', null],
    ]);
    expect(message.request.ruleSet).toBe('orders');
    expect(message.request.rules).toBeUndefined();
  });

  it('keeps accepted messages when the rule set changes', async () => {
    await putRuleSet('orders', { rules: ['sms', 'email'] });
    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: TO, ruleSet: 'orders' } });

    await putRuleSet('orders', { rules: ['email'] });
    await call(api, 'DELETE', '/v1/rulesets/orders');

    const message = await getMessage(response.json<MessageJson>().messageId);
    expect(message.steps.map((step) => step.channel)).toEqual(['sms', 'email']);
  });

  it('uses the default rule set when neither rules nor ruleSet is given', async () => {
    await putRuleSet('fallback', { rules: ['email', 'sms'], default: true });

    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: TO } });

    expect(response.statusCode).toBe(201);
    expect(response.json<Record<string, unknown>>().ruleSet).toBe('fallback');
    const message = await getMessage(response.json<MessageJson>().messageId);
    expect(message.steps.map((step) => step.channel)).toEqual(['email', 'sms']);
    expect(message.request.ruleSet).toBe('fallback');
  });

  it('prefers rules given in the request over the default', async () => {
    await putRuleSet('fallback', { rules: ['email'], default: true });

    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: TO, rules: ['sms'] } });

    const message = await getMessage(response.json<MessageJson>().messageId);
    expect(message.steps.map((step) => step.channel)).toEqual(['sms']);
    expect(message.request.ruleSet).toBeUndefined();
  });

  it('answers 400 at /ruleSet for an unknown rule set', async () => {
    await putRuleSet('fallback', { rules: ['email'], default: true });

    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: TO, ruleSet: 'missing' } });

    expect(response.statusCode).toBe(400);
    expect(errorsOf(response)).toEqual([{ pointer: '/ruleSet', detail: expect.stringContaining('names no stored rule set') }]);
    expect(await countMessages(api.store)).toBe(0);
  });

  it('answers 400 at /ruleSet for both rules and ruleSet', async () => {
    await putRuleSet('orders', { rules: ['sms'] });

    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: TO, rules: ['sms'], ruleSet: 'orders' } });

    expect(response.statusCode).toBe(400);
    expect(errorsOf(response)).toEqual([{ pointer: '/ruleSet', detail: expect.stringContaining('cannot be combined with rules') }]);
  });

  it('answers 400 at /rules without rules and without a default', async () => {
    await putRuleSet('orders', { rules: ['sms'] });

    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: TO } });

    expect(response.statusCode).toBe(400);
    expect(errorsOf(response)).toEqual([{ pointer: '/rules', detail: expect.stringContaining('no default rule set') }]);
  });

  it('answers 400 at /ruleSet for a malformed name', async () => {
    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: TO, ruleSet: 'no spaces' } });

    expect(response.statusCode).toBe(400);
    expect(errorsOf(response)).toEqual([{ pointer: '/ruleSet', detail: expect.stringContaining('letters, digits') }]);
  });

  it('checks the recipient against the rule set steps', async () => {
    await putRuleSet('chat', { rules: ['fbMessenger'] });

    const response = await call(api, 'POST', '/v1/messages', { body: { body: 'Hi', to: { phoneNumber: '+12025550123' }, ruleSet: 'chat' } });

    expect(response.statusCode).toBe(400);
    expect(errorsOf(response)).toEqual([{ pointer: '/to', detail: expect.stringContaining('fbMessenger needs fbMessengerId') }]);
  });

  it('resolves rule sets per batch item', async () => {
    await putRuleSet('orders', { rules: ['sms'] });
    await putRuleSet('fallback', { rules: ['email'], default: true });

    const response = await call(api, 'POST', '/v1/messages/batch', {
      body: {
        messages: [
          { body: 'Hi', to: TO, ruleSet: 'orders' },
          { body: 'Hi', to: TO },
          { body: 'Hi', to: TO, ruleSet: 'missing' },
          { body: 'Hi', to: TO, rules: ['whatsApp'] },
        ],
      },
    });

    expect(response.statusCode).toBe(202);
    const body = response.json<{ accepted: Array<{ index: number; messageId: string }>; rejected: Array<{ index: number; errors: unknown[] }> }>();
    expect(body.accepted.map((item) => item.index)).toEqual([0, 1, 3]);
    expect(body.rejected).toEqual([{ index: 2, errors: [{ pointer: '/messages/2/ruleSet', detail: expect.stringContaining('names no stored rule set') }] }]);
    const channels = await Promise.all(body.accepted.map(async (item) => (await getMessage(item.messageId)).steps.map((step) => step.channel)));
    expect(channels).toEqual([['sms'], ['email'], ['whatsApp']]);
  });
});

describe('stored rules that no longer pass the checks', () => {
  it('are reported at the field that chose the rule set', () => {
    // Rules stored before a check was added: SMS cannot report read.
    const outdated: RuleSet = {
      spaceId: 'default',
      name: 'old',
      rules: [{ channel: 'sms', fallbackUnless: 'read' }],
      isDefault: true,
      createdAt: START,
      updatedAt: START,
    };
    const ctx = { spaceId: 'default', now: START, defaultRegion: null, newId: () => 'm-1', ruleSets: { byName: new Map([['old', outdated]]), defaultRuleSet: outdated } };

    const named = parseSendRequest({ body: 'Hi', to: TO, ruleSet: 'old' }, ctx);
    const byDefault = parseSendRequest({ body: 'Hi', to: TO }, ctx);

    expect(named).toEqual({ ok: false, errors: [{ pointer: '/ruleSet', detail: expect.stringContaining('uses rule set old, whose rules/0/fallbackUnless read is not available on sms') }] });
    expect(byDefault).toEqual({ ok: false, errors: [{ pointer: '/rules', detail: expect.stringContaining('uses rule set old') }] });
  });
});
