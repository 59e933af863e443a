import { smpp, type Pdu } from '../channels/sms/smpp-pdu.js';

/** The final state a sandbox receipt reports. */
export type SandboxReceiptOutcome = 'delivered' | 'undeliverable';

export interface SandboxReceipt {
  /** The id returned in `submit_sm_resp`: upper-case hex. */
  messageIdHex: string;
  /** The same id in decimal, as the receipt text carries it. */
  messageIdDecimal: string;
  outcome: SandboxReceiptOutcome;
  /** The handset the message went to, which becomes the receipt's source address. */
  handset: string;
  /** The ESME's source address, which becomes the receipt's destination address. */
  esmeAddress: string;
  text: string;
  submittedAt: number;
  doneAt: number;
  /** Whether the PDU also carries the `receipted_message_id`, `message_state` and `network_error_code` TLVs. */
  withTlvs: boolean;
}

const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
const DATA_CODING_GSM7 = 0x00;
const MESSAGE_STATE_DELIVERED = 2;
const MESSAGE_STATE_UNDELIVERABLE = 5;
/** Network type 3 (GSM) with error code 1, the value the UNDELIV receipt text reports as err:001. */
const NETWORK_ERROR_UNDELIVERABLE = Buffer.from([0x03, 0x00, 0x01]);

/**
 * Characters that have the same code in ASCII and in the GSM 03.38 basic table, so the receipt
 * text reads the same whichever of the two the ESME decodes it with.
 */
const GSM_ASCII_COMMON = /[A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]/;

/** Formats epoch ms as the `YYMMDDhhmm` date of a receipt text, in UTC. */
export function formatReceiptDate(epochMs: number): string {
  const date = new Date(epochMs);
  const twoDigits = (value: number): string => value.toString().padStart(2, '0');
  return (
    twoDigits(date.getUTCFullYear() % 100) +
    twoDigits(date.getUTCMonth() + 1) +
    twoDigits(date.getUTCDate()) +
    twoDigits(date.getUTCHours()) +
    twoDigits(date.getUTCMinutes())
  );
}

/**
 * Builds the receipt text in the format of SMPP 3.4 Appendix B, for example
 * `id:1234 sub:001 dlvrd:001 submit date:2501311200 done date:2501311200 stat:DELIVRD err:000 text:Hello`.
 * The `text:` field contains the first 20 characters of the message, each outside the characters
 * ASCII and GSM 03.38 share replaced by `?`.
 */
export function formatReceiptText(receipt: SandboxReceipt): string {
  const delivered = receipt.outcome === 'delivered';
  const snippet = [...receipt.text]
    .slice(0, 20)
    .map((char) => (GSM_ASCII_COMMON.test(char) ? char : '?'))
    .join('');
  return (
    `id:${receipt.messageIdDecimal} sub:001 dlvrd:${delivered ? '001' : '000'} ` +
    `submit date:${formatReceiptDate(receipt.submittedAt)} done date:${formatReceiptDate(receipt.doneAt)} ` +
    `stat:${delivered ? 'DELIVRD' : 'UNDELIV'} err:${delivered ? '000' : '001'} text:${snippet}`
  );
}

/** Builds the `deliver_sm` that carries `receipt`. */
export function buildReceiptPdu(receipt: SandboxReceipt): Pdu {
  const delivered = receipt.outcome === 'delivered';
  const fields: Record<string, unknown> = {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: receipt.handset,
    dest_addr_ton: 0,
    dest_addr_npi: 0,
    destination_addr: receipt.esmeAddress,
    esm_class: ESM_CLASS_DELIVERY_RECEIPT,
    data_coding: DATA_CODING_GSM7,
    short_message: Buffer.from(formatReceiptText(receipt), 'ascii'),
  };
  if (receipt.withTlvs) {
    fields['receipted_message_id'] = receipt.messageIdHex;
    fields['message_state'] = delivered ? MESSAGE_STATE_DELIVERED : MESSAGE_STATE_UNDELIVERABLE;
    if (!delivered) {
      fields['network_error_code'] = NETWORK_ERROR_UNDELIVERABLE;
    }
  }
  return new smpp.PDU('deliver_sm', fields);
}
