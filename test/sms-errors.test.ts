import smpp from 'smpp';
import { describe, expect, it } from 'vitest';
import { classifySubmitStatus } from '../src/channels/sms/errors.js';

describe('classifySubmitStatus', () => {
  it.each([
    ['ESME_RTHROTTLED', 0x58],
    ['ESME_RMSGQFUL', 0x14],
    ['ESME_RSYSERR', 0x08],
    ['ESME_RSUBMITFAIL', 0x45],
    ['ESME_RX_T_APPN', 0x64],
    ['ESME_RUNKNOWNERR', 0xff],
    ['ESME_RINVBNDSTS', 0x04],
    ['ESME_RALYBND', 0x05],
  ] as const)('treats %s as transient', (code, status) => {
    const result = classifySubmitStatus(status);

    expect(result.kind).toBe('transient');
    expect(result.code).toBe(code);
  });

  it.each([
    ['ESME_RINVMSGLEN', 0x01],
    ['ESME_RINVSRCADR', 0x0a],
    ['ESME_RINVDSTADR', 0x0b],
    ['ESME_RINVSRCTON', 0x48],
    ['ESME_RINVSRCNPI', 0x49],
    ['ESME_RINVDSTTON', 0x50],
    ['ESME_RINVDSTNPI', 0x51],
    ['ESME_RINVESMCLASS', 0x43],
    ['ESME_RX_P_APPN', 0x65],
    ['ESME_RX_R_APPN', 0x66],
    ['ESME_RINVDCS', 0x104],
    ['ESME_RINVPASWD', 0x0e],
    ['ESME_RINVTLVVAL', 0xc4],
    ['ESME_RPROHIBITED', 0x101],
  ] as const)('treats %s as permanent', (code, status) => {
    const result = classifySubmitStatus(status);

    expect(result.kind).toBe('permanent');
    expect(result.code).toBe(code);
  });

  it('describes a throttling error', () => {
    expect(classifySubmitStatus(0x58).message).toMatch(/rate limit/);
  });

  it('treats unknown codes as transient', () => {
    expect(classifySubmitStatus(0x401)).toEqual({
      kind: 'transient',
      code: '0x00000401',
      message: 'SMSC error 0x00000401',
    });
    expect(classifySubmitStatus(0x09).code).toBe('0x00000009');
    expect(classifySubmitStatus(0xffffffff).code).toBe('0xFFFFFFFF');
  });

  it('uses the names of the smpp package', () => {
    const codes = Object.entries(smpp.errors).filter(([name]) => name !== 'ESME_ROK');

    expect(codes.length).toBeGreaterThan(60);
    for (const [name, status] of codes) {
      const result = classifySubmitStatus(status);
      expect(result.code).toBe(name);
      expect(result.message.length).toBeGreaterThan(0);
    }
  });

  it('rejects values that are not error codes', () => {
    expect(() => classifySubmitStatus(0)).toThrow(/ESME_ROK/);
    expect(() => classifySubmitStatus(-1)).toThrow(RangeError);
    expect(() => classifySubmitStatus(1.5)).toThrow(RangeError);
    expect(() => classifySubmitStatus(0x100000000)).toThrow(RangeError);
  });
});
