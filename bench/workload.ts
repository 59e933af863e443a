import { isValidPhoneNumber } from 'libphonenumber-js/max';

/** Sandbox SMSC test recipient that is accepted and gets a DELIVRD receipt. */
export const DELIVERED_NUMBER = '+12025550101';
/** Sandbox SMSC test recipient that is accepted and gets an UNDELIV receipt. */
export const UNDELIVERABLE_NUMBER = '+12025550102';

/** Builds the send request of the accept benchmark, with `sendAt` one hour after `now` when `scheduled`. */
export function acceptRequest(now: number, scheduled: boolean): Record<string, unknown> {
  return {
    body: 'Your Cascade sign-in code is 482913. It expires in 10 minutes.',
    to: { phoneNumber: DELIVERED_NUMBER },
    rules: ['sms'],
    ...(scheduled ? { sendAt: new Date(now + 3_600_000).toISOString() } : {}),
  };
}

/**
 * Returns `count` distinct US numbers in 555-0100 to 555-0199, which the North American
 * Numbering Plan reserves for fictional use in every area code, that libphonenumber-js accepts. Area code 202 is left out because the
 * sandbox SMSC gives 202-555-0101 to 0105 special behaviour; every other number is delivered.
 */
export function fictionalNumbers(count: number): string[] {
  const numbers: string[] = [];
  for (let areaCode = 201; areaCode <= 989 && numbers.length < count; areaCode += 1) {
    if (areaCode === 202) continue;
    for (let line = 100; line <= 199 && numbers.length < count; line += 1) {
      const number = `+1${areaCode}5550${line}`;
      if (isValidPhoneNumber(number)) numbers.push(number);
    }
  }
  if (numbers.length < count) throw new Error(`only ${numbers.length} fictional numbers are valid; ${count} were requested`);
  return numbers;
}
