import type { ApiDeps, ApiInstance } from '../deps.js';
import { invalidRequest, problem, sendProblem } from '../problem.js';
import { toRuleSetJson } from '../rule-sets.js';
import type { FieldError } from '../schema-errors.js';
import { NoContentSchema } from '../schemas/common.js';
import { MAX_RULE_SETS, RuleSetJsonSchema, RuleSetListJsonSchema, RuleSetParamsSchema, RuleSetPutSchema } from '../schemas/rule-set.js';
import { planRules } from '../send-request.js';

/**
 * `PUT`, `GET` and `DELETE /v1/rulesets/{name}` and `GET /v1/rulesets`: named fallback routes
 * that sends use through `ruleSet`, or by default when a send gives neither `rules` nor `ruleSet`.
 */
export function registerRuleSetRoutes(app: ApiInstance, deps: ApiDeps): void {
  // Rule sets decide where every message of the space goes, so they are configuration of the space.
  const config = { scope: 'admin' as const };
  app.put(
    '/v1/rulesets/:name',
    {
      config,
      schema: {
        summary: 'Create or replace a rule set',
        description:
          'Stores the rules under the name, checked as a send request\'s rules are. Responds with 201 when the rule set is new and 200 when it replaced one. ' +
          'Messages sent earlier keep the route they were planned with.',
        params: RuleSetParamsSchema,
        body: RuleSetPutSchema,
        response: { 200: RuleSetJsonSchema, 201: RuleSetJsonSchema },
        problems: { 409: `The space already has ${MAX_RULE_SETS} rule sets, the maximum, so a new one was not created.` },
      },
    },
    async (request, reply) => {
      const errors: FieldError[] = [];
      planRules(request.body.rules, '/rules', errors);
      if (errors.length > 0) return sendProblem(reply, invalidRequest(errors));

      const { name } = request.params;
      const input = request.body.default === undefined ? { rules: request.body.rules } : { rules: request.body.rules, isDefault: request.body.default };
      const stored = await deps.store.putRuleSet(request.spaceId, name, input, { now: deps.now(), maxRuleSets: MAX_RULE_SETS });
      if (stored.result === 'limit-reached') {
        const detail = `The space has ${MAX_RULE_SETS} rule sets, the maximum, so rule set ${name} was not created. Delete a rule set first.`;
        return sendProblem(reply, problem('limit-reached', detail));
      }

      request.log.info({ ruleSet: name, result: stored.result, default: stored.ruleSet.isDefault }, 'rule set stored');
      return reply.status(stored.result === 'created' ? 201 : 200).send(toRuleSetJson(stored.ruleSet));
    },
  );

  app.get(
    '/v1/rulesets/:name',
    { config, schema: { summary: 'Get a rule set', params: RuleSetParamsSchema, response: { 200: RuleSetJsonSchema } } },
    async (request, reply) => {
      const ruleSet = await deps.store.getRuleSet(request.spaceId, request.params.name);
      if (ruleSet === null) return sendProblem(reply, ruleSetNotFound(request.params.name));
      return reply.send(toRuleSetJson(ruleSet));
    },
  );

  const listSchema = { summary: 'List rule sets', description: 'Returns every rule set of the space, by name.', response: { 200: RuleSetListJsonSchema } };
  app.get('/v1/rulesets', { config, schema: listSchema }, async (request, reply) => {
    const ruleSets = await deps.store.listRuleSets(request.spaceId);
    return reply.send({ items: ruleSets.map(toRuleSetJson) });
  });

  app.delete(
    '/v1/rulesets/:name',
    { config, schema: { summary: 'Delete a rule set', description: 'Sends that name it fail validation from then on.', params: RuleSetParamsSchema, response: { 204: NoContentSchema } } },
    async (request, reply) => {
      const deleted = await deps.store.deleteRuleSet(request.spaceId, request.params.name);
      if (!deleted) return sendProblem(reply, ruleSetNotFound(request.params.name));
      request.log.info({ ruleSet: request.params.name }, 'rule set deleted');
      return reply.status(204).send();
    },
  );
}

function ruleSetNotFound(name: string) {
  return problem('not-found', `Rule set ${name} was not found.`);
}
