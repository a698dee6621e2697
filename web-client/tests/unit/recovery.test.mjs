// Recovery after a reconnect (js/recovery.js): gaps, duplicates, a new epoch, a
// replay too long to send, and two devices' read positions.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyJoinReply, applyLiveMessage, rejoinFields } from '../../public/js/recovery.js';
import { ChannelState } from '../../public/js/store.js';

const message = (seq) => ({ id: `m${seq}`, seq, ts: seq, from: { id: 'ola' }, body: `b${seq}` });
const absorb = (ch, m) => ch.addMessage({ channel: ch.name, ...m });

function channelWith(seqs, { epoch = 'e1', readSeq } = {}) {
  const last = seqs.length ? Math.max(...seqs) : 0;
  const ch = new ChannelState({ name: 'general', epoch, last_seq: last, read_seq: readSeq ?? last });
  for (const seq of seqs) ch.addMessage(message(seq));
  ch.advanceSynced();
  return ch;
}

test('a rejoin asks for what came after the last message held, in its epoch', () => {
  const ch = channelWith([1, 2, 3]);
  assert.deepEqual(rejoinFields(ch, 50), { channel: 'general', since: 3, epoch: 'e1' });
  const fresh = new ChannelState({ name: 'new' });
  assert.deepEqual(rejoinFields(fresh, 50), { channel: 'new', history: 50 });
});

test('a recovered replay adds the missed messages once, even those already received as events', () => {
  const ch = channelWith([1, 2, 3]);
  const fields = rejoinFields(ch, 50);
  // seq 5 arrived as an event during the join (subscribe before read): a hole at 4.
  assert.deepEqual(applyLiveMessage(ch, message(5)), { added: true, gap: true });
  const result = applyJoinReply(ch, { recovered: true, last_seq: 5, messages: [message(4), message(5)], read_seq: 3 }, fields, absorb);
  assert.deepEqual(result, { outcome: 'recovered', fillGap: false });
  assert.deepEqual(ch.order.map((m) => m.seq), [1, 2, 3, 4, 5]);
  assert.equal(ch.syncedSeq, 5);
  assert.equal(ch.unread, 2);
  assert.equal(ch.joined, true);
});

test('a duplicate live message is dropped', () => {
  const ch = channelWith([1, 2]);
  assert.deepEqual(applyLiveMessage(ch, message(2)), { added: false, gap: false });
  assert.equal(ch.order.length, 2);
});

test('a hole that the replay did not fill is reported, for the app to fetch with history', () => {
  const ch = channelWith([1, 2]);
  applyLiveMessage(ch, message(9));
  const result = applyJoinReply(ch, { recovered: true, last_seq: 9, messages: [message(3)] }, rejoinFields(ch, 50), absorb);
  assert.equal(result.fillGap, true);
  assert.equal(ch.syncedSeq, 3);
});

test('another epoch resets the history: nothing of the old one is kept or counted', () => {
  const ch = channelWith([1, 2, 3, 4], { readSeq: 4 });
  const result = applyJoinReply(
    ch,
    { recovered: false, truncated: false, last_seq: 2, channel: { epoch: 'e2' }, messages: [message(1), message(2)] },
    rejoinFields(ch, 50),
    absorb,
  );
  assert.equal(result.outcome, 'reset');
  assert.equal(ch.epoch, 'e2');
  assert.equal(ch.order.length, 0, 'the old epoch messages are gone; the latest page is loaded next');
  assert.equal(ch.lastSeq, 2);
  assert.equal(ch.unread, 0, 'a read position of the old epoch is clamped to the new history');
  assert.equal(ch.hasOlder, true);
});

test('a replay too long to send skips ahead to the latest page', () => {
  const ch = channelWith([1, 2]);
  const result = applyJoinReply(ch, { recovered: true, truncated: true, last_seq: 5000, messages: [message(3)], read_seq: 2 }, rejoinFields(ch, 50), absorb);
  assert.equal(result.outcome, 'skipped');
  assert.equal(ch.order.length, 0);
  assert.equal(ch.syncedSeq, 5000);
  assert.equal(ch.unread, 4998);
});

test('two devices: the join reply brings the read position the other device moved', () => {
  const phone = channelWith([1, 2, 3], { readSeq: 1 });
  applyJoinReply(phone, { recovered: true, last_seq: 3, messages: [], read_seq: 3 }, rejoinFields(phone, 50), absorb);
  assert.equal(phone.unread, 0);
  // ...and an older one from the hub never undoes a newer local read.
  applyJoinReply(phone, { recovered: true, last_seq: 3, messages: [], read_seq: 1 }, rejoinFields(phone, 50), absorb);
  assert.equal(phone.readSeq, 3);
});

test('a first join takes the latest page and the hub read position', () => {
  const ch = new ChannelState({ name: 'general', last_seq: 0, read_seq: 0 });
  const fields = rejoinFields(ch, 50);
  const result = applyJoinReply(
    ch,
    { last_seq: 80, read_seq: 75, channel: { epoch: 'e9' }, messages: [message(79), message(80)], presence: [{ id: 'kari' }] },
    fields,
    absorb,
  );
  assert.equal(result.outcome, 'history');
  assert.equal(ch.epoch, 'e9');
  assert.equal(ch.unread, 5);
  assert.equal(ch.hasOlder, true);
  assert.equal(ch.presenceCount, 1);
});

test('a rejoin applies the edits and deletions made while away to the messages held', () => {
  const ch = channelWith([1, 2, 3]);
  const fields = rejoinFields(ch, 50);
  const changes = [
    { ...message(2), body: 'b2, corrected', edited_at: 9000 },
    { id: 'm3', seq: 3, ts: 3, from: { id: 'ola' }, deleted: true, meta: null },
  ];
  const result = applyJoinReply(ch, { recovered: true, last_seq: 3, messages: [], changes, read_seq: 3 }, fields, absorb);
  assert.equal(result.outcome, 'recovered');
  assert.equal(ch.bySeq.get(2).body, 'b2, corrected');
  assert.equal(ch.bySeq.get(2).edited_at, 9000);
  assert.equal(ch.bySeq.get(3).deleted, true);
  assert.equal('body' in ch.bySeq.get(3), false);
  assert.deepEqual(ch.order.map((m) => m.seq), [1, 2, 3], 'a deleted message keeps its seq');
});

test('more changes than the reply could list: the held history is dropped and fetched again', () => {
  const ch = channelWith([1, 2, 3]);
  const fields = rejoinFields(ch, 50);
  const result = applyJoinReply(ch, { recovered: true, last_seq: 4, messages: [message(4)], changes: [], changes_truncated: true }, fields, absorb);
  assert.equal(result.outcome, 'skipped');
  assert.deepEqual(ch.order, []);
  assert.equal(ch.historyLoaded, false);
  assert.equal(ch.lastSeq, 4);
});

test("a join reply's title is taken as the hub gives it (a direct channel's is the reader's)", () => {
  const ch = new ChannelState({ name: 'dm-3f9c', kind: 'direct', title: 'Ola', epoch: 'e1', last_seq: 0, read_seq: 0 });
  const fields = rejoinFields(ch, 50);
  applyJoinReply(ch, { channel: { name: 'dm-3f9c', kind: 'direct', title: 'Ola Nordmann', epoch: 'e1' }, recovered: true, last_seq: 0, messages: [] }, fields, absorb);
  assert.equal(ch.title, 'Ola Nordmann');
  const open = new ChannelState({ name: 'kaffe', epoch: 'e1', last_seq: 0 });
  applyJoinReply(open, { channel: { name: 'kaffe', kind: 'public', title: 'Kaffe og kake' }, recovered: true, last_seq: 0 }, rejoinFields(open, 50), absorb);
  assert.equal(open.title, 'Kaffe og kake');
});
