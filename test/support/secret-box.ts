import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/secret-box.js';

/** Creates a secret box with one fresh random key, as start-up does when no key is configured. */
export function testSecretBox(id = 'test'): SecretBox {
  return new SecretBox([{ id, key: randomBytes(32) }]);
}
