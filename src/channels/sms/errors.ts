/**
 * Classification of SMPP 3.4 `command_status` values returned for `submit_sm`: a `transient`
 * error is worth another attempt later, a `permanent` one fails the step at once.
 */

export type SubmitErrorKind = 'permanent' | 'transient';

export interface SubmitStatusClass {
  kind: SubmitErrorKind;
  /** The SMPP 3.4 name (`ESME_RTHROTTLED`), or `0x` and eight hex digits for a code it does not define. */
  code: string;
  message: string;
}

interface StatusEntry {
  name: string;
  kind: SubmitErrorKind;
  message: string;
}

/**
 * SMPP 3.4 section 5.1.3 command_status values, with the broadcast codes of SMPP 5.0.
 *
 * Transient: the SMSC is busy, throttling or failing inside (RTHROTTLED, RMSGQFUL, RSYSERR,
 * RX_T_APPN), the session is not bound yet (RINVBNDSTS, RALYBND), and the generic failures
 * RSUBMITFAIL and RUNKNOWNERR. SMSCs return the generic ones for congestion and routing
 * outages as well as for lasting faults, and the per-channel retry budget caps what a lasting
 * fault costs before routing moves on. Everything else is permanent: the same PDU would be
 * rejected again.
 */
const STATUSES: ReadonlyMap<number, StatusEntry> = new Map<number, StatusEntry>([
  [0x01, { name: 'ESME_RINVMSGLEN', kind: 'permanent', message: 'Message length is invalid' }],
  [0x02, { name: 'ESME_RINVCMDLEN', kind: 'permanent', message: 'Command length is invalid' }],
  [0x03, { name: 'ESME_RINVCMDID', kind: 'permanent', message: 'Command ID is invalid' }],
  [0x04, { name: 'ESME_RINVBNDSTS', kind: 'transient', message: 'Session is not in a bind state that allows this command' }],
  [0x05, { name: 'ESME_RALYBND', kind: 'transient', message: 'Session is already bound' }],
  [0x06, { name: 'ESME_RINVPRTFLG', kind: 'permanent', message: 'Priority flag is invalid' }],
  [0x07, { name: 'ESME_RINVREGDLVFLG', kind: 'permanent', message: 'Registered delivery flag is invalid' }],
  [0x08, { name: 'ESME_RSYSERR', kind: 'transient', message: 'SMSC system error' }],
  [0x0a, { name: 'ESME_RINVSRCADR', kind: 'permanent', message: 'Source address is invalid' }],
  [0x0b, { name: 'ESME_RINVDSTADR', kind: 'permanent', message: 'Destination address is invalid' }],
  [0x0c, { name: 'ESME_RINVMSGID', kind: 'permanent', message: 'Message ID is invalid' }],
  [0x0d, { name: 'ESME_RBINDFAIL', kind: 'permanent', message: 'Bind failed' }],
  [0x0e, { name: 'ESME_RINVPASWD', kind: 'permanent', message: 'Password is invalid' }],
  [0x0f, { name: 'ESME_RINVSYSID', kind: 'permanent', message: 'System ID is invalid' }],
  [0x11, { name: 'ESME_RCANCELFAIL', kind: 'permanent', message: 'cancel_sm failed' }],
  [0x13, { name: 'ESME_RREPLACEFAIL', kind: 'permanent', message: 'replace_sm failed' }],
  [0x14, { name: 'ESME_RMSGQFUL', kind: 'transient', message: 'SMSC message queue is full' }],
  [0x15, { name: 'ESME_RINVSERTYP', kind: 'permanent', message: 'Service type is invalid' }],
  [0x33, { name: 'ESME_RINVNUMDESTS', kind: 'permanent', message: 'Number of destinations is invalid' }],
  [0x34, { name: 'ESME_RINVDLNAME', kind: 'permanent', message: 'Distribution list name is invalid' }],
  [0x40, { name: 'ESME_RINVDESTFLAG', kind: 'permanent', message: 'Destination flag is invalid' }],
  [0x42, { name: 'ESME_RINVSUBREP', kind: 'permanent', message: 'submit with replace is invalid' }],
  [0x43, { name: 'ESME_RINVESMCLASS', kind: 'permanent', message: 'esm_class is invalid' }],
  [0x44, { name: 'ESME_RCNTSUBDL', kind: 'permanent', message: 'Cannot submit to a distribution list' }],
  [0x45, { name: 'ESME_RSUBMITFAIL', kind: 'transient', message: 'submit_sm failed at the SMSC' }],
  [0x48, { name: 'ESME_RINVSRCTON', kind: 'permanent', message: 'Source address TON is invalid' }],
  [0x49, { name: 'ESME_RINVSRCNPI', kind: 'permanent', message: 'Source address NPI is invalid' }],
  [0x50, { name: 'ESME_RINVDSTTON', kind: 'permanent', message: 'Destination address TON is invalid' }],
  [0x51, { name: 'ESME_RINVDSTNPI', kind: 'permanent', message: 'Destination address NPI is invalid' }],
  [0x53, { name: 'ESME_RINVSYSTYP', kind: 'permanent', message: 'System type is invalid' }],
  [0x54, { name: 'ESME_RINVREPFLAG', kind: 'permanent', message: 'replace_if_present flag is invalid' }],
  [0x55, { name: 'ESME_RINVNUMMSGS', kind: 'permanent', message: 'Number of messages is invalid' }],
  [0x58, { name: 'ESME_RTHROTTLED', kind: 'transient', message: 'Throttled: the SMSC message rate limit was exceeded' }],
  [0x61, { name: 'ESME_RINVSCHED', kind: 'permanent', message: 'Scheduled delivery time is invalid' }],
  [0x62, { name: 'ESME_RINVEXPIRY', kind: 'permanent', message: 'Validity period is invalid' }],
  [0x63, { name: 'ESME_RINVDFTMSGID', kind: 'permanent', message: 'Predefined message ID is invalid or not found' }],
  [0x64, { name: 'ESME_RX_T_APPN', kind: 'transient', message: 'Temporary error at the receiving application' }],
  [0x65, { name: 'ESME_RX_P_APPN', kind: 'permanent', message: 'Permanent error at the receiving application' }],
  [0x66, { name: 'ESME_RX_R_APPN', kind: 'permanent', message: 'Rejected by the receiving application' }],
  [0x67, { name: 'ESME_RQUERYFAIL', kind: 'permanent', message: 'query_sm failed' }],
  [0xc0, { name: 'ESME_RINVTLVSTREAM', kind: 'permanent', message: 'Optional parameter stream is malformed' }],
  [0xc1, { name: 'ESME_RTLVNOTALLWD', kind: 'permanent', message: 'Optional parameter is not allowed' }],
  [0xc2, { name: 'ESME_RINVTLVLEN', kind: 'permanent', message: 'Optional parameter length is invalid' }],
  [0xc3, { name: 'ESME_RMISSINGTLV', kind: 'permanent', message: 'Required optional parameter is missing' }],
  [0xc4, { name: 'ESME_RINVTLVVAL', kind: 'permanent', message: 'Optional parameter value is invalid' }],
  [0xfe, { name: 'ESME_RDELIVERYFAILURE', kind: 'permanent', message: 'Delivery failed' }],
  [0xff, { name: 'ESME_RUNKNOWNERR', kind: 'transient', message: 'Unknown error at the SMSC' }],
  [0x100, { name: 'ESME_RSERTYPUNAUTH', kind: 'permanent', message: 'Not authorised to use this service type' }],
  [0x101, { name: 'ESME_RPROHIBITED', kind: 'permanent', message: 'Not allowed to use this operation' }],
  [0x102, { name: 'ESME_RSERTYPUNAVAIL', kind: 'permanent', message: 'Service type is unavailable' }],
  [0x103, { name: 'ESME_RSERTYPDENIED', kind: 'permanent', message: 'Service type is denied' }],
  [0x104, { name: 'ESME_RINVDCS', kind: 'permanent', message: 'data_coding is invalid' }],
  [0x105, { name: 'ESME_RINVSRCADDRSUBUNIT', kind: 'permanent', message: 'Source address subunit is invalid' }],
  [0x106, { name: 'ESME_RINVDSTADDRSUBUNIT', kind: 'permanent', message: 'Destination address subunit is invalid' }],
  [0x107, { name: 'ESME_RINVBCASTFREQINT', kind: 'permanent', message: 'Broadcast frequency interval is invalid' }],
  [0x108, { name: 'ESME_RINVBCASTALIAS_NAME', kind: 'permanent', message: 'Broadcast alias name is invalid' }],
  [0x109, { name: 'ESME_RINVBCASTAREAFMT', kind: 'permanent', message: 'Broadcast area format is invalid' }],
  [0x10a, { name: 'ESME_RINVNUMBCAST_AREAS', kind: 'permanent', message: 'Number of broadcast areas is invalid' }],
  [0x10b, { name: 'ESME_RINVBCASTCNTTYPE', kind: 'permanent', message: 'Broadcast content type is invalid' }],
  [0x10c, { name: 'ESME_RINVBCASTMSGCLASS', kind: 'permanent', message: 'Broadcast message class is invalid' }],
  [0x10d, { name: 'ESME_RBCASTFAIL', kind: 'permanent', message: 'broadcast_sm failed' }],
  [0x10e, { name: 'ESME_RBCASTQUERYFAIL', kind: 'permanent', message: 'query_broadcast_sm failed' }],
  [0x10f, { name: 'ESME_RBCASTCANCELFAIL', kind: 'permanent', message: 'cancel_broadcast_sm failed' }],
  [0x110, { name: 'ESME_RINVBCAST_REP', kind: 'permanent', message: 'Number of repeated broadcasts is invalid' }],
  [0x111, { name: 'ESME_RINVBCASTSRVGRP', kind: 'permanent', message: 'Broadcast service group is invalid' }],
  [0x112, { name: 'ESME_RINVBCASTCHANIND', kind: 'permanent', message: 'Broadcast channel indicator is invalid' }],
]);

/**
 * Classifies the `command_status` of a failed `submit_sm_resp`.
 *
 * A code SMPP does not define, such as the SMSC vendor range 0x400-0x4FF, is transient with
 * the message "SMSC error 0x…": its meaning is unknown, and the retry budget bounds the cost of
 * trying again.
 *
 * @example
 * classifySubmitStatus(0x58); // { kind: 'transient', code: 'ESME_RTHROTTLED', message: 'Throttled: …' }
 *
 * @throws {RangeError} for 0 (ESME_ROK, which is success) and for values outside 1-0xFFFFFFFF.
 */
export function classifySubmitStatus(commandStatus: number): SubmitStatusClass {
  if (!Number.isInteger(commandStatus) || commandStatus < 1 || commandStatus > 0xffffffff) {
    throw new RangeError(
      `command_status ${commandStatus} is not an SMPP error code. Expected an integer from 1 to 0xFFFFFFFF (0 is ESME_ROK, a success).`,
    );
  }
  const entry = STATUSES.get(commandStatus);
  if (entry !== undefined) {
    return { kind: entry.kind, code: entry.name, message: entry.message };
  }
  const code = `0x${commandStatus.toString(16).toUpperCase().padStart(8, '0')}`;
  return { kind: 'transient', code, message: `SMSC error ${code}` };
}
