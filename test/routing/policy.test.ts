import { describe, expect, it } from 'vitest';
import { CHANNEL_TRAITS } from '../../src/channels/catalog.js';
import { DEFAULT_POLICIES } from '../../src/routing/policy.js';
import { CHANNEL_IDS } from '../../src/routing/types.js';

describe('DEFAULT_POLICIES', () => {
  it('bounds the receipt wait where receipts exist', () => {
    for (const channel of CHANNEL_IDS) {
      const reportsDelivery = CHANNEL_TRAITS[channel].supportedConditions.includes('delivered');
      const maxWait = DEFAULT_POLICIES[channel].maxReceiptWaitMs;
      if (reportsDelivery) expect(maxWait, channel).toBeGreaterThan(0);
      else expect(maxWait, channel).toBeNull();
    }
  });

  it('keeps backoff settings consistent', () => {
    for (const channel of CHANNEL_IDS) {
      const policy = DEFAULT_POLICIES[channel];
      expect(policy.maxAttempts, channel).toBeGreaterThanOrEqual(1);
      expect(policy.backoffBaseMs, channel).toBeGreaterThan(0);
      expect(policy.backoffMaxMs, channel).toBeGreaterThanOrEqual(policy.backoffBaseMs);
    }
  });
});
