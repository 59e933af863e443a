import type { Kysely, Selectable } from 'kysely';
import { fromJson, toJson } from './json.js';
import type { Database, RuleSetsTable } from './schema.js';
import type { PutRuleSetResult, RuleSet, RuleSetInput, RuleSpec } from './types.js';

function rowToRuleSet(row: Selectable<RuleSetsTable>): RuleSet {
  return {
    spaceId: row.space_id,
    name: row.name,
    rules: fromJson<RuleSpec[]>(row.rules),
    isDefault: row.is_default === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function putRuleSet(
  db: Kysely<Database>,
  spaceId: string,
  name: string,
  input: RuleSetInput,
  options: { now: number; maxRuleSets: number },
): Promise<PutRuleSetResult> {
  return db.transaction().execute(async (trx) => {
    const existing = await getRuleSet(trx, spaceId, name);
    if (existing === null) {
      const { count } = await trx
        .selectFrom('rule_sets')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('space_id', '=', spaceId)
        .executeTakeFirstOrThrow();
      if (Number(count) >= options.maxRuleSets) return { result: 'limit-reached' };
    }

    const ruleSet: RuleSet = {
      spaceId,
      name,
      rules: input.rules,
      isDefault: input.isDefault ?? existing?.isDefault ?? false,
      createdAt: existing?.createdAt ?? options.now,
      updatedAt: options.now,
    };
    // The old default is cleared first, because the partial unique index allows one per space.
    if (ruleSet.isDefault) {
      await trx
        .updateTable('rule_sets')
        .set({ is_default: 0 })
        .where('space_id', '=', spaceId)
        .where('is_default', '=', 1)
        .where('name', '!=', name)
        .execute();
    }

    const row = {
      space_id: spaceId,
      name,
      rules: toJson(ruleSet.rules),
      is_default: ruleSet.isDefault ? 1 : 0,
      created_at: ruleSet.createdAt,
      updated_at: ruleSet.updatedAt,
    };
    if (existing === null) {
      await trx.insertInto('rule_sets').values(row).execute();
    } else {
      await trx
        .updateTable('rule_sets')
        .set({ rules: row.rules, is_default: row.is_default, updated_at: row.updated_at })
        .where('space_id', '=', spaceId)
        .where('name', '=', name)
        .execute();
    }
    return { result: existing === null ? 'created' : 'replaced', ruleSet };
  });
}

export async function getRuleSet(db: Kysely<Database>, spaceId: string, name: string): Promise<RuleSet | null> {
  const row = await db.selectFrom('rule_sets').selectAll().where('space_id', '=', spaceId).where('name', '=', name).executeTakeFirst();
  return row === undefined ? null : rowToRuleSet(row);
}

export async function getRuleSets(db: Kysely<Database>, spaceId: string, names: string[]): Promise<RuleSet[]> {
  if (names.length === 0) return [];
  const rows = await db
    .selectFrom('rule_sets')
    .selectAll()
    .where('space_id', '=', spaceId)
    .where('name', 'in', [...new Set(names)])
    .orderBy('name')
    .execute();
  return rows.map(rowToRuleSet);
}

export async function getDefaultRuleSet(db: Kysely<Database>, spaceId: string): Promise<RuleSet | null> {
  const row = await db.selectFrom('rule_sets').selectAll().where('space_id', '=', spaceId).where('is_default', '=', 1).executeTakeFirst();
  return row === undefined ? null : rowToRuleSet(row);
}

// NOTE: SQLite orders names by byte value, and PostgreSQL by the database collation unless the
// query names one. A PostgreSQL store may need `collate "C"` here to list in the same order.
export async function listRuleSets(db: Kysely<Database>, spaceId: string): Promise<RuleSet[]> {
  const rows = await db.selectFrom('rule_sets').selectAll().where('space_id', '=', spaceId).orderBy('name').execute();
  return rows.map(rowToRuleSet);
}

export async function deleteRuleSet(db: Kysely<Database>, spaceId: string, name: string): Promise<boolean> {
  const result = await db.deleteFrom('rule_sets').where('space_id', '=', spaceId).where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
