/** One `submit_sm` worth of text: the bytes of `short_message` and the PDU fields that describe them. */
export interface EncodedPart {
  shortMessage: Buffer;
  /** 0x00 for GSM 03.38 (one septet per octet, unpacked), 0x08 for UCS-2 (UTF-16BE). */
  dataCoding: number;
  /** 0x40 (UDHI) when `shortMessage` starts with a concatenation header, else 0x00. */
  esmClass: number;
}

export interface EncodedSms {
  encoding: 'gsm7' | 'ucs2';
  parts: EncodedPart[];
  /** Septets (GSM 03.38, extension characters count two) or UTF-16 code units (UCS-2). */
  units: number;
}
