import { describe, expect, it } from 'vitest';
import * as server from '../../src/channels/app/protocol.js';
import { AppClientError } from '../src/errors.js';
import * as sdk from '../src/protocol.js';
import { feedMessage } from './support/feed-peer.js';

/** True when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// The SDK keeps its own copy of the wire types so that it has no dependency on the server. These
// lines fail `tsc` when the two copies drift apart.
const sameFeedMessage: Same<sdk.FeedMessage, server.FeedMessage> = true;
const sameServerFrame: Same<sdk.ServerFrame, server.ServerFrame> = true;
const sameClientFrame: Same<sdk.ClientFrame, server.ClientFrame> = true;

describe('protocol', () => {
  it('matches the server copy', () => {
    expect([sameFeedMessage, sameServerFrame, sameClientFrame]).toEqual([true, true, true]);
    expect(sdk.APP_SOCKET_PROTOCOL).toBe(server.APP_SOCKET_PROTOCOL);
  });

  it('parses each frame type', () => {
    const message = feedMessage(4, { data: { orderId: '88121' } });
    expect(sdk.parseServerFrame(JSON.stringify({ type: 'message', ...message, extra: 1 }))).toEqual({ type: 'message', ...message });
    expect(sdk.parseServerFrame('{"type":"ready","appUserId":"au_1","lastSeq":4}')).toEqual({ type: 'ready', appUserId: 'au_1', lastSeq: 4 });
    expect(sdk.parseServerFrame('{"type":"ping","at":"2025-01-01T00:00:00.000Z"}')).toEqual({ type: 'ping', at: '2025-01-01T00:00:00.000Z' });
    expect(sdk.parseServerFrame('{"type":"error","code":"bad-frame","detail":"Frame is not JSON."}')).toEqual({
      type: 'error',
      code: 'bad-frame',
      detail: 'Frame is not JSON.',
    });
  });

  it('reads a missing title and data as null', () => {
    const { title: _title, data: _data, ...rest } = feedMessage(1);
    expect(sdk.parseFeedMessage(rest)).toEqual({ ...rest, title: null, data: null });
  });

  it('ignores unknown frame types', () => {
    expect(sdk.parseServerFrame('{"type":"presence","online":true}')).toBeNull();
  });

  it.each([
    ['not JSON', 'hello', /not JSON/],
    ['no type', '{"seq":1}', /string `type`/],
    ['bad seq', JSON.stringify({ type: 'message', ...feedMessage(1), seq: 1.5 }), /`seq` must be a non-negative integer/],
    ['empty id', JSON.stringify({ type: 'message', ...feedMessage(1), messageId: '' }), /`messageId`/],
    ['body not text', JSON.stringify({ type: 'message', ...feedMessage(1), body: 42 }), /`body` must be a string/],
    ['data array', JSON.stringify({ type: 'message', ...feedMessage(1), data: [] }), /`data` must be an object or null/],
    ['ready without user', '{"type":"ready","lastSeq":0}', /`appUserId`/],
  ])('rejects a frame with %s', (_case, text, message) => {
    let thrown: unknown;
    try {
      sdk.parseServerFrame(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppClientError);
    expect((thrown as AppClientError).code).toBe('invalid-frame');
    expect((thrown as AppClientError).message).toMatch(message);
  });

  it('keeps bodies out of error messages', () => {
    expect(() => sdk.parseServerFrame(JSON.stringify({ type: 'message', ...feedMessage(1), body: 'secret 4417', seq: -1 }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('4417') as unknown }),
    );
  });
});
