import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { appFeedContract } from './contract/app-feed.js';
import { decisionContract } from './contract/decisions.js';
import { durabilityContract } from './contract/durability.js';
import { idempotencyContract } from './contract/idempotency.js';
import { jobsContract } from './contract/jobs.js';
import { messagesContract } from './contract/messages.js';
import { profilesContract } from './contract/profiles.js';
import { providerFactsContract } from './contract/provider-facts.js';
import { receiptsContract } from './contract/receipts.js';
import { ruleSetsContract } from './contract/rulesets.js';
import { spacesContract } from './contract/spaces.js';
import { spacesKeysContract } from './contract/spaces-keys.js';
import { webhooksContract } from './contract/webhooks.js';

/** One empty database for one test. */
export interface StoreHarness {
  /** Open a store on this harness's database; every call opens the same database again. */
  open(): Promise<Store>;
  /** Remove the database and everything it created. */
  cleanup(): Promise<void>;
}

export interface ContractContext {
  /** The open, migrated store of the current test. */
  store: Store;
  /** Close the store and open the same database again, as a restarted process would. */
  reopen(): Promise<Store>;
}

export type UseStore = () => ContractContext;

/**
 * The behaviour every `Store` implementation must show, run against a fresh database per test.
 */
export function describeStoreContract(name: string, createHarness: () => Promise<StoreHarness>): void {
  describe(`${name} store contract`, () => {
    let harness: StoreHarness | null = null;
    let context: ContractContext | null = null;

    beforeEach(async () => {
      const current = await createHarness();
      harness = current;
      const store = await current.open();
      await store.migrate();
      const ctx: ContractContext = {
        store,
        async reopen() {
          await ctx.store.close();
          ctx.store = await current.open();
          await ctx.store.migrate();
          return ctx.store;
        },
      };
      context = ctx;
    });

    afterEach(async () => {
      await context?.store.close();
      await harness?.cleanup();
      context = null;
      harness = null;
    });

    const useStore: UseStore = () => {
      if (context === null) throw new Error('The store is only open inside a test');
      return context;
    };

    messagesContract(useStore);
    profilesContract(useStore);
    spacesContract(useStore);
    spacesKeysContract(useStore);
    jobsContract(useStore);
    decisionContract(useStore);
    receiptsContract(useStore);
    durabilityContract(useStore);
    providerFactsContract(useStore);
    appFeedContract(useStore);
    idempotencyContract(useStore);
    ruleSetsContract(useStore);
    webhooksContract(useStore);
  });
}
