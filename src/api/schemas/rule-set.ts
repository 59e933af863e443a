import { Type, type Static } from 'typebox';
import { DateTimeSchema } from './common.js';
import { RuleSetNameSchema, RulesSchema } from './send-request.js';

/** Maximum number of rule sets per space. It bounds the unpaged `GET /v1/rulesets` response. */
export const MAX_RULE_SETS = 1000;

export const RuleSetParamsSchema = Type.Object({ name: Type.With(RuleSetNameSchema, { examples: ['parcel-updates'] }) });

const RULES_EXAMPLE = [{ channel: 'whatsApp', fallbackAfter: 'PT5M', fallbackUnless: 'delivered' }, 'sms', 'email'];

/** `PUT /v1/rulesets/{name}`: the rules, checked as a send request's `rules` are. */
export const RuleSetPutSchema = Type.Object(
  {
    rules: RulesSchema,
    default: Type.Optional(
      Type.Boolean({
        description:
          'true makes this the rule set of sends that give neither rules nor ruleSet, replacing the previous default; ' +
          'false stops it being the default. When absent, a replaced rule set keeps its setting and a new one is not the default.',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ rules: RULES_EXAMPLE, default: true }] },
);

export type RuleSetPut = Static<typeof RuleSetPutSchema>;

export const RuleSetJsonSchema = Type.Object(
  {
    name: Type.String(),
    rules: RulesSchema,
    default: Type.Boolean(),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
  },
  {
    examples: [
      { name: 'parcel-updates', rules: RULES_EXAMPLE, default: true, createdAt: '2025-06-01T12:00:00.000Z', updatedAt: '2025-06-01T12:00:00.000Z' },
    ],
  },
);

export type RuleSetJson = Static<typeof RuleSetJsonSchema>;

/** `GET /v1/rulesets`: every rule set of the space, by name. */
export const RuleSetListJsonSchema = Type.Object({ items: Type.Array(RuleSetJsonSchema) });
