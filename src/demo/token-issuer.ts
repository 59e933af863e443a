import type { FastifyInstance } from 'fastify';

/**
 * Returns an `issueToken` for `registerDemoRoutes` that calls `POST /v1/app/tokens` on `api`
 * in-process (Fastify `inject`) with the default space's API key, so demo tokens are issued by
 * the same code as every other app token.
 *
 * @example
 * await registerDemoRoutes(api, { issueToken: issueTokenThroughApi(api, apiKey.key), logger });
 */
export function issueTokenThroughApi(api: FastifyInstance, apiKey: string): (profileId: string) => Promise<{ token: string }> {
  return async (profileId) => {
    const response = await api.inject({
      method: 'POST',
      url: '/v1/app/tokens',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ profileId }),
    });
    if (response.statusCode !== 201) {
      throw new Error(`POST /v1/app/tokens returned HTTP ${response.statusCode} for the demo page.`);
    }
    const body: unknown = response.json();
    const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
    if (typeof token !== 'string' || token === '') throw new Error('POST /v1/app/tokens returned no token for the demo page.');
    return { token };
  };
}
