import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/secret-box.js';

/** A secret box with one fresh random key, as start-up makes when no key is configured. */
export function testSecretBox(id = 'test'): SecretBox {
  return new SecretBox([{ id, key: randomBytes(32) }]);
}
