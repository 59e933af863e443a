import { isCompleted, type Draft } from './draft.js';
import { stopMessage } from './finish.js';

/** Ends an unfinished message as `expired`. A finished message stays as it is. */
export function handleExpire(draft: Draft): void {
  if (!isCompleted(draft.state)) stopMessage(draft, 'expired');
}

/** Ends an unfinished message as `cancelled`. A finished message stays as it is. */
export function handleCancel(draft: Draft): void {
  if (!isCompleted(draft.state)) stopMessage(draft, 'cancelled');
}
