import { describe, expect, it } from 'vitest';
import type { RuleSetInput, Store } from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { HOUR, T0 } from '../fixtures.js';

const LIMITS = { now: T0, maxRuleSets: 100 };

async function put(store: Store, spaceId: string, name: string, input: RuleSetInput, now = T0): Promise<void> {
  const result = await store.putRuleSet(spaceId, name, input, { ...LIMITS, now });
  if (result.result === 'limit-reached') throw new Error(`rule set ${name} was not stored: limit reached`);
}

export function ruleSetsContract(useStore: UseStore): void {
  describe('rule sets', () => {
    it('putRuleSet creates and getRuleSet reads it', async () => {
      const { store } = useStore();
      const rules = ['sms', { channel: 'email', fallbackAfter: 'PT10M' }] as const;

      const result = await store.putRuleSet('default', 'orders', { rules: [...rules] }, LIMITS);

      const expected = { spaceId: 'default', name: 'orders', rules, isDefault: false, createdAt: T0, updatedAt: T0 };
      expect(result).toEqual({ result: 'created', ruleSet: expected });
      expect(await store.getRuleSet('default', 'orders')).toEqual(expected);
    });

    it('putRuleSet replaces and keeps createdAt', async () => {
      const { store } = useStore();
      await put(store, 'default', 'orders', { rules: ['sms'] });

      const result = await store.putRuleSet('default', 'orders', { rules: ['email'] }, { ...LIMITS, now: T0 + HOUR });

      expect(result).toEqual({
        result: 'replaced',
        ruleSet: { spaceId: 'default', name: 'orders', rules: ['email'], isDefault: false, createdAt: T0, updatedAt: T0 + HOUR },
      });
      expect((await store.getRuleSet('default', 'orders'))?.rules).toEqual(['email']);
    });

    it('getRuleSet returns null for an unknown name', async () => {
      const { store } = useStore();
      expect(await store.getRuleSet('default', 'nothing')).toBeNull();
    });

    it('a new default clears the old one', async () => {
      const { store } = useStore();
      await put(store, 'default', 'first', { rules: ['sms'], isDefault: true });
      expect((await store.getDefaultRuleSet('default'))?.name).toBe('first');

      await put(store, 'default', 'second', { rules: ['email'], isDefault: true });

      expect((await store.getDefaultRuleSet('default'))?.name).toBe('second');
      expect((await store.getRuleSet('default', 'first'))?.isDefault).toBe(false);
    });

    it('replacing without isDefault keeps the flag', async () => {
      const { store } = useStore();
      await put(store, 'default', 'main', { rules: ['sms'], isDefault: true });

      await put(store, 'default', 'main', { rules: ['email'] });
      expect((await store.getDefaultRuleSet('default'))?.rules).toEqual(['email']);

      await put(store, 'default', 'main', { rules: ['email'], isDefault: false });
      expect(await store.getDefaultRuleSet('default')).toBeNull();
    });

    it('listRuleSets returns every rule set by name', async () => {
      const { store } = useStore();
      for (const name of ['b', 'a.2', 'a-1', 'C']) await put(store, 'default', name, { rules: ['sms'] });

      const names = (await store.listRuleSets('default')).map((ruleSet) => ruleSet.name);

      expect(names).toEqual(['C', 'a-1', 'a.2', 'b']);
    });

    it('getRuleSets skips unknown names', async () => {
      const { store } = useStore();
      await put(store, 'default', 'a', { rules: ['sms'] });
      await put(store, 'default', 'b', { rules: ['email'] });

      const found = await store.getRuleSets('default', ['b', 'missing', 'b']);

      expect(found.map((ruleSet) => ruleSet.name)).toEqual(['b']);
      expect(await store.getRuleSets('default', [])).toEqual([]);
    });

    it('deleteRuleSet removes a rule set once', async () => {
      const { store } = useStore();
      await put(store, 'default', 'main', { rules: ['sms'], isDefault: true });

      expect(await store.deleteRuleSet('default', 'main')).toBe(true);
      expect(await store.deleteRuleSet('default', 'main')).toBe(false);
      expect(await store.getRuleSet('default', 'main')).toBeNull();
      expect(await store.getDefaultRuleSet('default')).toBeNull();
    });

    it('putRuleSet stops creating at the limit', async () => {
      const { store } = useStore();
      const limits = { now: T0, maxRuleSets: 2 };
      await store.putRuleSet('default', 'a', { rules: ['sms'] }, limits);
      await store.putRuleSet('default', 'b', { rules: ['sms'] }, limits);

      expect(await store.putRuleSet('default', 'c', { rules: ['sms'] }, limits)).toEqual({ result: 'limit-reached' });
      expect((await store.putRuleSet('default', 'a', { rules: ['email'] }, limits)).result).toBe('replaced');
      expect((await store.putRuleSet('other', 'c', { rules: ['sms'] }, limits)).result).toBe('created');
      expect(await store.getRuleSet('default', 'c')).toBeNull();
    });

    it('rule sets and defaults stay in their space', async () => {
      const { store } = useStore();
      await put(store, 'default', 'main', { rules: ['sms'], isDefault: true });
      await put(store, 'other', 'main', { rules: ['email'], isDefault: true });

      expect((await store.getRuleSet('default', 'main'))?.rules).toEqual(['sms']);
      expect((await store.getDefaultRuleSet('other'))?.rules).toEqual(['email']);
      expect((await store.getRuleSets('other', ['main'])).map((ruleSet) => ruleSet.rules)).toEqual([['email']]);

      expect(await store.deleteRuleSet('other', 'main')).toBe(true);
      expect((await store.getDefaultRuleSet('default'))?.name).toBe('main');
      expect(await store.listRuleSets('other')).toEqual([]);
      expect(await store.getRuleSet('third', 'main')).toBeNull();
    });
  });
}
