import { SecretBox } from '../secret-box.js';

/** Associated data that binds a sealed webhook secret to its endpoint. */
export function webhookSecretContext(spaceId: string, endpointId: string): string {
  return `webhook-secret:${spaceId}:${endpointId}`;
}

export function sealWebhookSecret(box: SecretBox, secret: string, spaceId: string, endpointId: string): string {
  return box.seal(secret, webhookSecretContext(spaceId, endpointId));
}

/** Opens a stored webhook secret; a secret stored before encryption existed is returned as it is. */
export function openWebhookSecret(box: SecretBox, stored: string, spaceId: string, endpointId: string): string {
  return SecretBox.keyIdOf(stored) === null ? stored : box.open(stored, webhookSecretContext(spaceId, endpointId));
}
