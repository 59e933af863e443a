import { describe, expect, it } from 'vitest';
import type { InboundMessage } from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { HOUR, SECOND, T0, createOne, decision, firstStepAccepted, mustLoad } from '../fixtures.js';

function inbound(providerMessageId: string, providerTimestamp: number, overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    spaceId: 'default',
    channel: 'whatsApp',
    providerMessageId,
    address: '+12025550111',
    text: 'hello',
    providerTimestamp,
    receivedAt: providerTimestamp + SECOND,
    ...overrides,
  };
}

export function providerFactsContract(useStore: UseStore): void {
  describe('provider facts', () => {
    it('recordInbound stores a message once', async () => {
      const { store } = useStore();

      expect(await store.recordInbound(inbound('wamid.1', T0))).toBe(true);
      expect(await store.recordInbound(inbound('wamid.1', T0))).toBe(false);
    });

    it('lastInboundAt returns the newest provider time', async () => {
      const { store } = useStore();
      await store.recordInbound(inbound('wamid.2', T0 + HOUR));
      await store.recordInbound(inbound('wamid.1', T0));

      expect(await store.lastInboundAt('default', 'whatsApp', '+12025550111')).toBe(T0 + HOUR);
      expect(await store.lastInboundAt('default', 'fbMessenger', '+12025550111')).toBeNull();
      expect(await store.lastInboundAt('default', 'whatsApp', '+12025550199')).toBeNull();
      expect(await store.lastInboundAt('other', 'whatsApp', '+12025550111')).toBeNull();
    });

    it('inbound message clears an unreachable mark', async () => {
      const { store } = useStore();
      await store.markUnreachable('default', 'fbMessenger', 'psid-1', 'graph-551', T0);
      expect(await store.isUnreachable('default', 'fbMessenger', 'psid-1')).toBe(true);
      expect(await store.isUnreachable('other', 'fbMessenger', 'psid-1')).toBe(false);

      await store.recordInbound(inbound('mid.1', T0 + HOUR, { channel: 'fbMessenger', address: 'psid-1' }));

      expect(await store.isUnreachable('default', 'fbMessenger', 'psid-1')).toBe(false);
    });

    it('attemptIdsBefore finds attempts by address', async () => {
      const { store } = useStore();
      const message = await createOne(store);
      await store.claimAttempt('default', message.id, 0, 1, 'key-1', T0, '+12025550101');
      const loaded = await mustLoad(store, 'default', message.id);
      await store.applyDecision(decision(loaded, firstStepAccepted(loaded, 'mid-1', T0), T0));

      expect(await store.attemptIdsBefore('default', 'sms', '+12025550101', T0, ['accepted'])).toEqual(['mid-1']);
      expect(await store.attemptIdsBefore('default', 'sms', '+12025550101', T0 - 1, ['accepted'])).toEqual([]);
      expect(await store.attemptIdsBefore('default', 'sms', '+12025550101', T0, ['delivered'])).toEqual([]);
      expect(await store.attemptIdsBefore('default', 'email', '+12025550101', T0, ['accepted'])).toEqual([]);
      expect(await store.attemptIdsBefore('other', 'sms', '+12025550101', T0, ['accepted'])).toEqual([]);
    });
  });
}
