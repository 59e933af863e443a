import { readBuffer, readNumber, readString, type Pdu } from './smpp-pdu.js';

/** Fields of an incoming `deliver_sm`, with `short_message` as the bytes that arrived. */
export interface DeliverSm {
  sequenceNumber: number;
  source_addr: string;
  destination_addr: string;
  esm_class: number;
  data_coding: number;
  /** `short_message`, or the `message_payload` TLV when `short_message` is empty. */
  short_message: Buffer;
  receipted_message_id?: string;
  message_state?: number;
  network_error_code?: Buffer;
}

/** Reads the fields of a received `deliver_sm` PDU. */
export function toDeliverSm(pdu: Pdu): DeliverSm {
  let shortMessage = readBuffer(pdu, 'short_message') ?? Buffer.alloc(0);
  const payload = readBuffer(pdu, 'message_payload');
  if (shortMessage.length === 0 && payload !== null) {
    shortMessage = payload;
  }

  const fields: DeliverSm = {
    sequenceNumber: pdu.sequence_number,
    source_addr: readString(pdu, 'source_addr') ?? '',
    destination_addr: readString(pdu, 'destination_addr') ?? '',
    esm_class: readNumber(pdu, 'esm_class') ?? 0,
    data_coding: readNumber(pdu, 'data_coding') ?? 0,
    short_message: shortMessage,
  };
  const receiptedMessageId = readString(pdu, 'receipted_message_id');
  if (receiptedMessageId !== null) {
    fields.receipted_message_id = receiptedMessageId;
  }
  const messageState = readNumber(pdu, 'message_state');
  if (messageState !== null) {
    fields.message_state = messageState;
  }
  const networkErrorCode = readBuffer(pdu, 'network_error_code');
  if (networkErrorCode !== null) {
    fields.network_error_code = networkErrorCode;
  }
  return fields;
}
