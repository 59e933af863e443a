import type { ConcatInfo } from '../channels/sms/encoding.js';
import { CommandStatus } from '../channels/sms/smpp-pdu.js';
import type { SandboxReceiptOutcome } from './smsc-receipt.js';

/** Handling of a submit to one of the sandbox's published test recipients. */
export type RecipientBehaviour =
  | { kind: 'receipt'; outcome: SandboxReceiptOutcome }
  | { kind: 'no-receipt' }
  | { kind: 'reject'; commandStatus: number }
  | { kind: 'throttle-then-deliver'; throttledSubmits: number };

/** Published test recipients, by E.164 digits. */
const TEST_RECIPIENTS: ReadonlyMap<string, RecipientBehaviour> = new Map<string, RecipientBehaviour>([
  ['12025550101', { kind: 'receipt', outcome: 'delivered' }],
  ['12025550102', { kind: 'receipt', outcome: 'undeliverable' }],
  ['12025550103', { kind: 'no-receipt' }],
  ['12025550104', { kind: 'reject', commandStatus: CommandStatus.ESME_RINVDSTADR }],
  ['12025550105', { kind: 'throttle-then-deliver', throttledSubmits: 2 }],
]);
const DEFAULT_BEHAVIOUR: RecipientBehaviour = { kind: 'receipt', outcome: 'delivered' };

/** The sandbox's test recipients, with the throttling count of each destination. */
export class TestRecipients {
  readonly #throttleCounts = new Map<string, number>();

  /** Returns the behaviour for a destination given as E.164 digits; any other destination is accepted and delivered. */
  behaviourFor(digits: string): RecipientBehaviour {
    return TEST_RECIPIENTS.get(digits) ?? DEFAULT_BEHAVIOUR;
  }

  /**
   * Returns the `submit_sm_resp` status for a submit. A throttled destination is rejected with
   * ESME_RTHROTTLED for its first `throttledSubmits` submits; the count starts again once a
   * message, or the last part of a concatenated one, was accepted.
   */
  submitStatus(digits: string, behaviour: RecipientBehaviour, concat: ConcatInfo | null): number {
    if (behaviour.kind === 'reject') {
      return behaviour.commandStatus;
    }
    if (behaviour.kind !== 'throttle-then-deliver') {
      return CommandStatus.ESME_ROK;
    }

    const throttled = this.#throttleCounts.get(digits) ?? 0;
    if (throttled < behaviour.throttledSubmits) {
      this.#throttleCounts.set(digits, throttled + 1);
      return CommandStatus.ESME_RTHROTTLED;
    }
    if (concat === null || concat.sequence === concat.total) {
      this.#throttleCounts.delete(digits);
    }
    return CommandStatus.ESME_ROK;
  }
}
