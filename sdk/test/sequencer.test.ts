import { describe, expect, it } from 'vitest';
import { FeedSequencer } from '../src/sequencer.js';
import { feedMessage } from './support/feed-peer.js';

const seqs = (messages: Array<{ seq: number }>) => messages.map((message) => message.seq);

describe('FeedSequencer', () => {
  it('emits rising seqs as they arrive', () => {
    const sequencer = new FeedSequencer();
    expect(seqs(sequencer.receive(feedMessage(1)))).toEqual([1]);
    expect(seqs(sequencer.receive(feedMessage(2)))).toEqual([2]);
    expect(seqs(sequencer.receive(feedMessage(5)))).toEqual([5]);
    expect(sequencer.lastSeq).toBe(5);
  });

  it('drops duplicates and older seqs', () => {
    const sequencer = new FeedSequencer();
    sequencer.receive(feedMessage(3));
    expect(sequencer.receive(feedMessage(3))).toEqual([]);
    expect(sequencer.receive(feedMessage(2))).toEqual([]);
    expect(sequencer.lastSeq).toBe(3);
  });

  it('starts after the resume point', () => {
    const sequencer = new FeedSequencer(10);
    expect(sequencer.receive(feedMessage(10))).toEqual([]);
    expect(seqs(sequencer.receive(feedMessage(11)))).toEqual([11]);
  });

  it('holds socket messages during a catch-up', () => {
    const sequencer = new FeedSequencer(1);
    sequencer.hold();
    expect(sequencer.receive(feedMessage(6))).toEqual([]);
    expect(sequencer.receive(feedMessage(5))).toEqual([]);
    expect(sequencer.receive(feedMessage(6))).toEqual([]);
    expect(sequencer.lastSeq).toBe(1);

    expect(seqs(sequencer.admit([feedMessage(4), feedMessage(2), feedMessage(3), feedMessage(1)]))).toEqual([2, 3, 4]);
    expect(seqs(sequencer.admit([feedMessage(5)]))).toEqual([5]);
    expect(seqs(sequencer.release())).toEqual([6]);
    expect(sequencer.holding).toBe(false);
    expect(sequencer.lastSeq).toBe(6);
  });

  it('never emits a seq twice in a random stream', () => {
    const sequencer = new FeedSequencer();
    const emitted: number[] = [];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let round = 0; round < 500; round += 1) {
      const seq = 1 + (next() % 200);
      if (next() % 17 === 0) sequencer.hold();
      if (sequencer.holding && next() % 5 === 0) emitted.push(...seqs(sequencer.release()));
      else if (next() % 3 === 0) emitted.push(...seqs(sequencer.admit([feedMessage(seq), feedMessage(seq + 1)])));
      else emitted.push(...seqs(sequencer.receive(feedMessage(seq))));
    }
    emitted.push(...seqs(sequencer.release()));

    for (let index = 1; index < emitted.length; index += 1) {
      expect(emitted[index]).toBeGreaterThan(emitted[index - 1]!);
    }
    expect(emitted.at(-1)).toBe(sequencer.lastSeq);
  });
});
