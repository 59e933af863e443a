import { expect, vi } from 'vitest';
import { http } from '../api/admin-client.js';

/** The fields of `GET /v1/messages/{id}` that integration tests read. */
export interface AttemptJson {
  status: string;
  providerMessageId: string | null;
  errorCode: string | null;
}

export interface StepJson {
  channel: string;
  status: string;
  reason: string | null;
  attempts: AttemptJson[];
}

export interface MessageJson {
  messageId: string;
  status: string;
  completedAt: string | null;
  steps: StepJson[];
}

/** A response of the channel settings routes. */
export interface ChannelSettingsJson {
  channel: string;
  settings: Record<string, unknown>;
  encryptionKeyId: string;
  webhookPath?: string;
  createdAt: string;
  updatedAt: string;
}

/** Polls a message with `key` until it is final, and returns that view. */
export async function finalMessage(server: { url: string }, key: string, messageId: string): Promise<MessageJson> {
  let view: MessageJson | null = null;
  await vi.waitFor(
    async () => {
      const response = await http<MessageJson>(server, 'GET', `/v1/messages/${messageId}`, { key });
      view = response.body;
      expect(view.completedAt).not.toBeNull();
    },
    { timeout: 15_000, interval: 50 },
  );
  return view as unknown as MessageJson;
}
