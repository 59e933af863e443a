import type { RuleSet, Store } from '../store/types.js';
import { toDateTime } from './message-view.js';
import type { RuleSetJson } from './schemas/rule-set.js';
import { SEND_LIMITS } from './schemas/send-request.js';
import type { RuleSetCatalog } from './send-request.js';

const RULE_SET_NAME = new RegExp(`^[A-Za-z0-9._-]{1,${SEND_LIMITS.ruleSetNameLength}}$`);

/**
 * Loads the stored rule sets that send request bodies refer to: those named in `ruleSet`, and
 * the space's default when a body gives neither `rules` nor `ruleSet`. Bodies are read before
 * validation, so anything that is not a possible rule set name is skipped, and the checks of
 * each body later report what is wrong with it.
 */
export async function loadRuleSetCatalog(store: Store, spaceId: string, bodies: readonly unknown[]): Promise<RuleSetCatalog> {
  const names = new Set<string>();
  let needsDefault = false;
  for (const body of bodies) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) continue;
    const { rules, ruleSet } = body as { rules?: unknown; ruleSet?: unknown };
    if (rules !== undefined) continue;
    if (ruleSet === undefined) needsDefault = true;
    else if (typeof ruleSet === 'string' && RULE_SET_NAME.test(ruleSet)) names.add(ruleSet);
  }

  const [named, defaultRuleSet] = await Promise.all([
    store.getRuleSets(spaceId, [...names]),
    needsDefault ? store.getDefaultRuleSet(spaceId) : Promise.resolve(null),
  ]);
  return { byName: new Map(named.map((ruleSet) => [ruleSet.name, ruleSet])), defaultRuleSet };
}

export function toRuleSetJson(ruleSet: RuleSet): RuleSetJson {
  return {
    name: ruleSet.name,
    rules: ruleSet.rules,
    default: ruleSet.isDefault,
    createdAt: toDateTime(ruleSet.createdAt),
    updatedAt: toDateTime(ruleSet.updatedAt),
  };
}
