import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createSpace, http, issueKey } from '../api/admin-client.js';
import { finalMessage, type MessageJson } from '../helpers/message-json.js';
import { startTestServer, TEST_API_KEY, type TestServer } from '../helpers/server.js';
import { createTestSchema, postgresUnavailable, type TestSchema } from '../support/postgres.js';

// Under CI=true the tests run even when PostgreSQL cannot be reached, so that they fail rather than skip.
const runs = (await postgresUnavailable()) === null || process.env.CI === 'true';

describe.runIf(runs)('server on PostgreSQL', () => {
  let schema: TestSchema;
  let server: TestServer;

  beforeAll(async () => {
    schema = await createTestSchema('cascade_server');
    server = await startTestServer({ DATABASE_URL: schema.url, SANDBOX: '1', ADMIN_KEY });
  });

  afterAll(async () => {
    await server?.dispose();
    await schema?.drop();
  });

  it('falls back from SMS to email', async () => {
    const sent = await http<MessageJson>(server, 'POST', '/v1/messages', {
      key: TEST_API_KEY,
      body: { body: 'Your parcel is delayed', to: { phoneNumber: '+12025550102', email: 'ada@example.com' }, rules: ['sms', 'email'] },
    });
    expect(sent.status).toBe(201);

    const view = await finalMessage(server, TEST_API_KEY, sent.body.messageId);

    expect(server.store.dialect).toBe('postgres');
    expect(view.status).toBe('sent');
    expect(view.steps.map((step) => [step.channel, step.status])).toEqual([
      ['sms', 'failed'],
      ['email', 'succeeded'],
    ]);
  });

  it('keeps spaces and their channel settings apart', async () => {
    const spaceId = await createSpace(server, 'On PostgreSQL');
    const key = await issueKey(server, spaceId);
    const settings = { host: '127.0.0.1', port: 2775, systemId: 'pg', password: 'pg-pass', sourceAddr: 'PG' };

    const stored = await http<{ settings: Record<string, unknown> }>(server, 'PUT', '/v1/channels/sms', { key: key.key, body: settings });
    const fromDefault = await http(server, 'GET', '/v1/channels/sms', { key: TEST_API_KEY });

    expect(stored.status).toBe(201);
    expect(stored.body.settings.password).toBe('****');
    expect(fromDefault.status).toBe(404);
  });
});
