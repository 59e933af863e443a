import type { ApiDeps, ApiInstance } from '../deps.js';
import { invalidRequest, problem, sendProblem } from '../problem.js';
import { checkProfileInput, toProfileJson } from '../profile-input.js';
import { NoContentSchema } from '../schemas/common.js';
import { ProfileJsonSchema, ProfileParamsSchema, ProfilePatchSchema, ProfilePutSchema } from '../schemas/profile.js';

/** `PUT`, `GET`, `PATCH` and `DELETE /v1/profiles/{profileId}`. */
export function registerProfileRoutes(app: ApiInstance, deps: ApiDeps): void {
  app.put(
    '/v1/profiles/:profileId',
    {
      config: { scope: 'profiles:write' },
      schema: {
        summary: 'Create or replace a profile',
        description: 'Stores the whole profile: fields left out become empty. Responds with 201 when the profile is new and 200 when it replaced one.',
        params: ProfileParamsSchema,
        body: ProfilePutSchema,
        response: { 200: ProfileJsonSchema, 201: ProfileJsonSchema },
      },
    },
    async (request, reply) => {
      const checked = checkProfileInput(request.body, deps.defaultRegion);
      if (!checked.ok) return sendProblem(reply, invalidRequest(checked.errors));

      const { created, profile } = await deps.store.putProfile(request.spaceId, request.params.profileId, checked.input, deps.now());
      return reply.status(created ? 201 : 200).send(toProfileJson(profile));
    },
  );

  app.get(
    '/v1/profiles/:profileId',
    { config: { scope: 'profiles:read' }, schema: { summary: 'Get a profile', params: ProfileParamsSchema, response: { 200: ProfileJsonSchema } } },
    async (request, reply) => {
      const profile = await deps.store.getProfile(request.spaceId, request.params.profileId);
      if (profile === null) return sendProblem(reply, profileNotFound(request.params.profileId));
      return reply.send(toProfileJson(profile));
    },
  );

  app.patch(
    '/v1/profiles/:profileId',
    {
      config: { scope: 'profiles:write' },
      schema: {
        summary: 'Update a profile',
        description:
          'Applies a JSON Merge Patch (RFC 7396): fields left out stay as they are, null removes an address, a property or the time zone, and optOuts replaces the list.',
        params: ProfileParamsSchema,
        body: ProfilePatchSchema,
        response: { 200: ProfileJsonSchema },
      },
    },
    async (request, reply) => {
      const checked = checkProfileInput(request.body, deps.defaultRegion);
      if (!checked.ok) return sendProblem(reply, invalidRequest(checked.errors));

      const profile = await deps.store.patchProfile(request.spaceId, request.params.profileId, checked.input, deps.now());
      if (profile === null) return sendProblem(reply, profileNotFound(request.params.profileId));
      return reply.send(toProfileJson(profile));
    },
  );

  app.delete(
    '/v1/profiles/:profileId',
    {
      config: { scope: 'profiles:write' },
      schema: { summary: 'Delete a profile', params: ProfileParamsSchema, response: { 204: NoContentSchema } },
    },
    async (request, reply) => {
      const deleted = await deps.store.deleteProfile(request.spaceId, request.params.profileId);
      if (!deleted) return sendProblem(reply, profileNotFound(request.params.profileId));
      return reply.status(204).send();
    },
  );
}

function profileNotFound(profileId: string) {
  return problem('not-found', `Profile ${JSON.stringify(profileId)} was not found.`);
}
