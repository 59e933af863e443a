import { describe, expect, it } from 'vitest';
import type { ProfileInput } from '../../../src/store/types.js';
import type { UseStore } from '../contract.js';
import { HOUR, T0, mustLoad, newMessage } from '../fixtures.js';

export function profilesContract(useStore: UseStore): void {
  describe('profiles', () => {
    it('getProfile returns null for an unknown profile', async () => {
      const { store } = useStore();
      expect(await store.getProfile('default', 'nobody')).toBeNull();
    });

    it('putProfile creates a profile', async () => {
      const { store } = useStore();

      const result = await store.putProfile(
        'default',
        'cust-1',
        { addresses: { phoneNumber: '+12025550101' }, properties: { firstName: 'Ada' }, optOuts: ['email'], timeZone: 'Europe/Paris' },
        T0,
      );

      expect(result.created).toBe(true);
      const expected = {
        spaceId: 'default',
        profileId: 'cust-1',
        addresses: { phoneNumber: '+12025550101' },
        properties: { firstName: 'Ada' },
        optOuts: ['email'],
        timeZone: 'Europe/Paris',
        createdAt: T0,
        updatedAt: T0,
      };
      expect(result.profile).toEqual(expected);
      expect(await store.getProfile('default', 'cust-1')).toEqual(expected);
    });

    it('putProfile replaces every field', async () => {
      const { store } = useStore();
      await store.putProfile('default', 'cust-1', { addresses: { phoneNumber: '+12025550101' }, properties: { firstName: 'Ada' }, timeZone: 'UTC' }, T0);

      const result = await store.putProfile('default', 'cust-1', { addresses: { email: 'ada@example.com' } }, T0 + HOUR);

      expect(result.created).toBe(false);
      expect(result.profile.addresses).toEqual({ email: 'ada@example.com' });
      expect(result.profile.properties).toEqual({});
      expect(result.profile.optOuts).toEqual([]);
      expect(result.profile.timeZone).toBeNull();
      expect(result.profile.createdAt).toBe(T0);
      expect(result.profile.updatedAt).toBe(T0 + HOUR);
      expect(await store.getProfile('default', 'cust-1')).toEqual(result.profile);
    });

    it('patchProfile merges and null removes', async () => {
      const { store } = useStore();
      await store.putProfile(
        'default',
        'cust-1',
        {
          addresses: { phoneNumber: '+12025550101', email: 'ada@example.com' },
          properties: { firstName: 'Ada', tier: 'gold', address: { city: 'Paris', zip: '75001' } },
          optOuts: ['sms'],
          timeZone: 'Europe/Paris',
        },
        T0,
      );
      // Request bodies carry null where a caller removes a value, which the input types do not model.
      const removals: ProfileInput = JSON.parse('{"addresses":{"email":null},"properties":{"tier":null,"address":{"zip":null}},"timeZone":null}');

      const patched = await store.patchProfile('default', 'cust-1', removals, T0 + HOUR);
      const added = await store.patchProfile(
        'default',
        'cust-1',
        { addresses: { appUserId: 'user-7' }, properties: { lastName: 'Lovelace' }, optOuts: ['email', 'whatsApp'] },
        T0 + 2 * HOUR,
      );

      expect(patched?.addresses).toEqual({ phoneNumber: '+12025550101' });
      expect(patched?.properties).toEqual({ firstName: 'Ada', address: { city: 'Paris' } });
      expect(patched?.timeZone).toBeNull();
      expect(patched?.optOuts).toEqual(['sms']);
      expect(added?.addresses).toEqual({ phoneNumber: '+12025550101', appUserId: 'user-7' });
      expect(added?.properties).toEqual({ firstName: 'Ada', lastName: 'Lovelace', address: { city: 'Paris' } });
      expect(added?.optOuts).toEqual(['email', 'whatsApp']);
      expect(added?.createdAt).toBe(T0);
      expect(added?.updatedAt).toBe(T0 + 2 * HOUR);
      expect(await store.getProfile('default', 'cust-1')).toEqual(added);
    });

    it('patchProfile returns null for an unknown profile', async () => {
      const { store } = useStore();
      expect(await store.patchProfile('default', 'nobody', { properties: { a: 1 } }, T0)).toBeNull();
      expect(await store.getProfile('default', 'nobody')).toBeNull();
    });

    it('deleteProfile removes a profile once', async () => {
      const { store } = useStore();
      await store.putProfile('default', 'cust-1', {}, T0);

      expect(await store.deleteProfile('default', 'cust-1')).toBe(true);
      expect(await store.getProfile('default', 'cust-1')).toBeNull();
      expect(await store.deleteProfile('default', 'cust-1')).toBe(false);
    });

    it('createMessages merges `to` into a profile', async () => {
      const { store } = useStore();
      await store.putProfile('default', 'cust-1', { addresses: { phoneNumber: '+12025550199', fbMessengerId: 'psid-1' }, properties: { firstName: 'Ada' } }, T0);
      const message = newMessage({ profileId: 'cust-1', to: { phoneNumber: '+12025550101', email: 'ada@example.com' }, createdAt: T0 + HOUR });

      await store.createMessages([message]);

      const profile = await store.getProfile('default', 'cust-1');
      expect(profile?.addresses).toEqual({ phoneNumber: '+12025550101', email: 'ada@example.com', fbMessengerId: 'psid-1' });
      expect(profile?.properties).toEqual({ firstName: 'Ada' });
      expect(profile?.createdAt).toBe(T0);
      expect(profile?.updatedAt).toBe(T0 + HOUR);
      const loaded = await mustLoad(store, 'default', message.id);
      expect(loaded.profile).toEqual(profile);
      expect(loaded.to).toEqual({ phoneNumber: '+12025550101', email: 'ada@example.com' });
    });

    it('createMessages creates a missing profile', async () => {
      const { store } = useStore();
      const message = newMessage({ profileId: 'cust-new', to: { appUserId: 'user-7', loyaltyId: 'L-9' } });

      await store.createMessages([message]);

      const profile = await store.getProfile('default', 'cust-new');
      expect(profile).toEqual({
        spaceId: 'default',
        profileId: 'cust-new',
        addresses: { appUserId: 'user-7', loyaltyId: 'L-9' },
        properties: {},
        optOuts: [],
        timeZone: null,
        createdAt: T0,
        updatedAt: T0,
      });
    });

    it('createMessages merges a batch in order', async () => {
      const { store } = useStore();
      const first = newMessage({ profileId: 'cust-1', to: { phoneNumber: '+12025550101', email: 'old@example.com' }, createdAt: T0 });
      const second = newMessage({ profileId: 'cust-1', to: { email: 'new@example.com' }, createdAt: T0 + 1 });

      await store.createMessages([first, second]);

      const profile = await store.getProfile('default', 'cust-1');
      expect(profile?.addresses).toEqual({ phoneNumber: '+12025550101', email: 'new@example.com' });
      expect(profile?.createdAt).toBe(T0);
      expect(profile?.updatedAt).toBe(T0 + 1);
    });

    it('createMessages leaves an unchanged profile untouched', async () => {
      const { store } = useStore();
      await store.putProfile('default', 'cust-1', { addresses: { phoneNumber: '+12025550101' } }, T0);

      await store.createMessages([newMessage({ profileId: 'cust-1', to: { phoneNumber: '+12025550101' }, createdAt: T0 + HOUR })]);

      expect((await store.getProfile('default', 'cust-1'))?.updatedAt).toBe(T0);
    });
  });
}
