import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createTestApi, START, type TestApi } from './harness.js';

interface ProfileJson {
  profileId: string;
  addresses: Record<string, string>;
  properties: Record<string, unknown>;
  optOuts: string[];
  timeZone: string | null;
  createdAt: string;
  updatedAt: string;
}

let api: TestApi;

beforeEach(async () => {
  api = await createTestApi();
});

afterEach(async () => {
  await api.close();
});

describe('PUT /v1/profiles/{profileId}', () => {
  it('answers 201 when it creates and 200 when it replaces', async () => {
    const created = await call(api, 'PUT', '/v1/profiles/cust-1', {
      body: {
        addresses: { phoneNumber: '1 202 555 0123', email: 'Ann@Example.COM', fbMessengerId: 'psid-1' },
        properties: { firstName: 'Ann', tier: { level: 2 } },
        optOuts: ['email'],
        timeZone: 'Europe/Berlin',
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json<ProfileJson>()).toEqual({
      profileId: 'cust-1',
      addresses: { phoneNumber: '+12025550123', email: 'Ann@example.com', fbMessengerId: 'psid-1' },
      properties: { firstName: 'Ann', tier: { level: 2 } },
      optOuts: ['email'],
      timeZone: 'Europe/Berlin',
      createdAt: new Date(START).toISOString(),
      updatedAt: new Date(START).toISOString(),
    });

    api.clock.now = START + 60_000;
    const replaced = await call(api, 'PUT', '/v1/profiles/cust-1', { body: { properties: { firstName: 'Anna' } } });
    expect(replaced.statusCode).toBe(200);
    const profile = replaced.json<ProfileJson>();
    expect(profile.addresses).toEqual({});
    expect(profile.properties).toEqual({ firstName: 'Anna' });
    expect(profile.optOuts).toEqual([]);
    expect(profile.timeZone).toBeNull();
    expect(profile.createdAt).toBe(new Date(START).toISOString());
    expect(profile.updatedAt).toBe(new Date(START + 60_000).toISOString());
  });

  it('answers 400 for bad addresses, opt-outs and time zones', async () => {
    const response = await call(api, 'PUT', '/v1/profiles/cust-1', {
      body: { addresses: { phoneNumber: '555' }, optOuts: ['pager'], timeZone: 'Mars/Olympus' },
    });
    expect(response.statusCode).toBe(400);
    // The unknown channel is a schema error and is reported alone: addresses and time zone are
    // checked only on a body that matches the schema.
    expect(response.json<{ errors: Array<{ pointer: string }> }>().errors.map((error) => error.pointer)).toEqual(['/optOuts/0']);

    const semantic = await call(api, 'PUT', '/v1/profiles/cust-1', {
      body: { addresses: { phoneNumber: '555', email: 'no-at-sign' }, timeZone: 'Mars/Olympus' },
    });
    expect(semantic.statusCode).toBe(400);
    const errors = semantic.json<{ errors: Array<{ pointer: string; detail: string }> }>().errors;
    expect(errors.map((error) => error.pointer)).toEqual(['/addresses/phoneNumber', '/addresses/email', '/timeZone']);
    expect(errors[2]?.detail).toContain('IANA time zone');
    expect(await api.store.getProfile('default', 'cust-1')).toBeNull();
  });

  it('answers 400 for properties over 16 KiB', async () => {
    const response = await call(api, 'PUT', '/v1/profiles/cust-1', { body: { properties: { notes: 'x'.repeat(17_000) } } });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ errors: Array<{ pointer: string }> }>().errors[0]?.pointer).toBe('/properties');
  });
});

describe('GET /v1/profiles/{profileId}', () => {
  it('returns a stored profile with an id that needs URL encoding', async () => {
    await call(api, 'PUT', '/v1/profiles/ann%40example.com', { body: { addresses: { email: 'ann@example.com' } } });
    const response = await call(api, 'GET', '/v1/profiles/ann%40example.com');
    expect(response.statusCode).toBe(200);
    expect(response.json<ProfileJson>().profileId).toBe('ann@example.com');
  });

  it('answers 404 problem for an unknown profile', async () => {
    const response = await call(api, 'GET', '/v1/profiles/nobody');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json<{ detail: string }>().detail).toBe('Profile "nobody" was not found.');
  });
});

describe('PATCH /v1/profiles/{profileId}', () => {
  it('merges fields and removes those set to null', async () => {
    await call(api, 'PUT', '/v1/profiles/cust-1', {
      body: {
        addresses: { phoneNumber: '+12025550123', email: 'a@example.com' },
        properties: { firstName: 'Ann', city: 'Berlin', tier: { level: 2, since: 2020 } },
        optOuts: ['sms'],
        timeZone: 'Europe/Berlin',
      },
    });

    const response = await call(api, 'PATCH', '/v1/profiles/cust-1', {
      body: {
        addresses: { email: null, appUserId: 'user-9' },
        properties: { city: null, tier: { level: 3 } },
        timeZone: null,
      },
    });
    expect(response.statusCode).toBe(200);
    const profile = response.json<ProfileJson>();
    expect(profile.addresses).toEqual({ phoneNumber: '+12025550123', appUserId: 'user-9' });
    expect(profile.properties).toEqual({ firstName: 'Ann', tier: { level: 3, since: 2020 } });
    expect(profile.optOuts).toEqual(['sms']);
    expect(profile.timeZone).toBeNull();
  });

  it('replaces opt-outs and clears them with null', async () => {
    await call(api, 'PUT', '/v1/profiles/cust-1', { body: { optOuts: ['sms'] } });
    const replaced = await call(api, 'PATCH', '/v1/profiles/cust-1', { body: { optOuts: ['email', 'whatsApp'] } });
    expect(replaced.json<ProfileJson>().optOuts).toEqual(['email', 'whatsApp']);
    const cleared = await call(api, 'PATCH', '/v1/profiles/cust-1', { body: { optOuts: null } });
    expect(cleared.json<ProfileJson>().optOuts).toEqual([]);
  });

  it('normalises a patched phone number', async () => {
    await call(api, 'PUT', '/v1/profiles/cust-1', { body: {} });
    const response = await call(api, 'PATCH', '/v1/profiles/cust-1', { body: { addresses: { phoneNumber: '+44 (0)20 7946 0018' } } });
    expect(response.json<ProfileJson>().addresses.phoneNumber).toBe('+442079460018');
  });

  it('answers 404 for an unknown profile', async () => {
    const response = await call(api, 'PATCH', '/v1/profiles/nobody', { body: { timeZone: 'UTC' } });
    expect(response.statusCode).toBe(404);
    expect(await api.store.getProfile('default', 'nobody')).toBeNull();
  });
});

describe('DELETE /v1/profiles/{profileId}', () => {
  it('answers 204 and removes the profile', async () => {
    await call(api, 'PUT', '/v1/profiles/cust-1', { body: {} });
    const response = await call(api, 'DELETE', '/v1/profiles/cust-1');
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect((await call(api, 'GET', '/v1/profiles/cust-1')).statusCode).toBe(404);
  });

  it('answers 404 for an unknown profile', async () => {
    const response = await call(api, 'DELETE', '/v1/profiles/nobody');
    expect(response.statusCode).toBe(404);
  });
});
