import { Type } from 'typebox';
import type { ApiInstance } from '../deps.js';

/** `GET /healthz`: 200 once the server accepts requests. Needs no API key. */
export function registerHealthRoute(app: ApiInstance): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Health check',
        description: 'Responds with 200 once the server accepts requests. Needs no credentials.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
}
