import smppLibrary from 'smpp';

/**
 * Turns off the `smpp` package's text decoding of received PDUs. The package would replace
 * `short_message` and `message_payload` with a decoded `{ udh, message }` object, guessing the
 * alphabet and writing unknown bytes as spaces. Cascade decodes text itself (GSM 03.38, UCS-2
 * and concatenation headers), so both fields stay the `Buffer` that arrived.
 *
 * NOTE: the change is made on the package's shared command table, so it applies to every user
 * of `smpp` in this process. Encoding is untouched, and a `Buffer` is written as it is.
 */
function keepMessageBytesRaw(): void {
  const passThrough = (value: unknown): unknown => value;

  for (const definition of Object.values(smppLibrary.commands)) {
    const field = definition.params?.['short_message'];
    if (field?.filter) {
      field.filter = { encode: field.filter.encode, decode: passThrough };
    }
  }

  const payload = smppLibrary.tlvs['message_payload'];
  if (payload?.filter) {
    payload.filter = { encode: payload.filter.encode, decode: passThrough };
  }
}

keepMessageBytesRaw();

export const smpp = smppLibrary;
export type Pdu = smppLibrary.PDU;
export type SmppSession = smppLibrary.Session;
export type SmppServer = smppLibrary.Server;

/** Command status values used by the client and the sandbox SMSC (SMPP 3.4, section 5.1.3). */
export const CommandStatus = {
  ESME_ROK: 0x00,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVDSTADR: 0x0b,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RTHROTTLED: 0x58,
  /** ESME receiver temporary application error: the SMSC should resend the deliver_sm later. */
  ESME_RX_T_APPN: 0x64,
} as const;

/** Formats a command status as its spec name and hex value, for example `ESME_RINVPASWD (0x0000000E)`. */
export function describeCommandStatus(status: number): string {
  const hex = `0x${status.toString(16).toUpperCase().padStart(8, '0')}`;
  const name = Object.entries(smpp.errors).find(([, value]) => value === status)?.[0];
  return name ? `${name} (${hex})` : hex;
}

export function readString(pdu: Pdu, field: string): string | null {
  const value = pdu[field];
  return typeof value === 'string' ? value : null;
}

export function readNumber(pdu: Pdu, field: string): number | null {
  const value = pdu[field];
  return typeof value === 'number' ? value : null;
}

export function readBuffer(pdu: Pdu, field: string): Buffer | null {
  const value = pdu[field];
  return Buffer.isBuffer(value) ? value : null;
}

/** Builds a `generic_nack` for a request this side does not handle. */
export function genericNack(request: Pdu, status: number): Pdu {
  return new smpp.PDU('generic_nack', { sequence_number: request.sequence_number, command_status: status });
}
