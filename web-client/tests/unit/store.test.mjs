// Unread bookkeeping and the outbox (js/store.js), under Node's test runner:
//   node --test web-client/tests/unit/
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AnnouncementInbox, ChannelState, Outbox } from '../../public/js/store.js';

const message = (seq, extra = {}) => ({ id: `m${seq}`, seq, ts: seq * 1000, from: { id: 'ola' }, body: `b${seq}`, ...extra });

test('a read position from another device clears the unread count', () => {
  const ch = new ChannelState({ name: 'general', last_seq: 12, read_seq: 9 });
  assert.equal(ch.unread, 3);
  assert.equal(ch.applyReadPosition(12), true);
  assert.equal(ch.unread, 0);
});

test('a read position never moves back: a late event does not bring unread messages back', () => {
  const ch = new ChannelState({ name: 'general', last_seq: 12, read_seq: 12 });
  assert.equal(ch.applyReadPosition(10), false);
  assert.equal(ch.readSeq, 12);
  assert.equal(ch.unread, 0);
});

test('a read position past the newest message held raises last_seq with it', () => {
  // The laptop read seq 14 before the phone received it: no negative or stale count.
  const ch = new ChannelState({ name: 'general', last_seq: 12, read_seq: 10 });
  ch.applyReadPosition(14);
  assert.equal(ch.lastSeq, 14);
  assert.equal(ch.unread, 0);
  ch.addMessage(message(15));
  assert.equal(ch.unread, 1);
});

test('a read position that is not a number changes nothing', () => {
  const ch = new ChannelState({ name: 'general', last_seq: 5, read_seq: 2 });
  for (const bad of [undefined, null, '5', -1, NaN, Infinity]) assert.equal(ch.applyReadPosition(bad), false);
  assert.equal(ch.unread, 3);
});

test('messages are held once per seq, in seq order, whatever order they arrive in', () => {
  const ch = new ChannelState({ name: 'g', last_seq: 0 });
  for (const seq of [3, 1, 2, 3, 1]) ch.addMessage(message(seq));
  assert.deepEqual(ch.order.map((m) => m.seq), [1, 2, 3]);
});

const announcement = (id, extra = {}) => ({ id, title: id, priority: 'normal', require_ack: false, ts: 1, ...extra });

test('a receipt of an acknowledgement on another device takes the banner away here', () => {
  const inbox = new AnnouncementInbox();
  inbox.receive(announcement('a1', { priority: 'urgent', require_ack: true }));
  inbox.receive(announcement('a2'));
  assert.equal(inbox.unreadCount, 2);
  assert.equal(inbox.applyReceipt('a1', 'read'), true);
  assert.equal(inbox.unreadCount, 2, 'read is not acknowledged: an ack is still required');
  assert.equal(inbox.applyReceipt('a1', 'ack'), true);
  assert.equal(inbox.applyReceipt('a2', 'read'), true);
  assert.equal(inbox.unreadCount, 0);
});

test('a receipt this device already applied, or of an unknown announcement, or of an unknown kind, changes nothing', () => {
  const inbox = new AnnouncementInbox();
  inbox.receive(announcement('a1', { require_ack: true }));
  assert.equal(inbox.applyReceipt('a1', 'ack'), true);
  assert.equal(inbox.applyReceipt('a1', 'ack'), false);
  assert.equal(inbox.applyReceipt('nope', 'ack'), false);
  inbox.receive(announcement('a2', { require_ack: true }));
  assert.equal(inbox.applyReceipt('a2', 'delete'), false);
  assert.equal(inbox.unreadCount, 1);
});

test('a welcome that no longer lists an announcement means another device dealt with it', () => {
  const inbox = new AnnouncementInbox();
  inbox.receive(announcement('a1', { require_ack: true }));
  inbox.receive(announcement('a2'));
  inbox.settleFromWelcome([announcement('a2'), announcement('a3')]);
  assert.deepEqual(inbox.needingAttention().map((e) => e.announcement.id).sort(), ['a2', 'a3']);
});

function memoryStorage() {
  const data = new Map();
  return { getItem: (k) => (data.has(k) ? data.get(k) : null), setItem: (k, v) => data.set(k, String(v)), data };
}

test('the outbox survives a reload with each item keeping its client_id (a retry cannot duplicate)', () => {
  const storage = memoryStorage();
  const first = new Outbox(storage);
  const item = first.add({ channel: 'general', body: 'Hei' });
  first.add({ channel: 'random', body: 'Hallo' });
  const reloaded = new Outbox(storage);
  assert.deepEqual(reloaded.items.map((i) => i.client_id), first.items.map((i) => i.client_id));
  assert.equal(reloaded.find(item.client_id).status, 'queued', 'a reload sends it again');
  reloaded.remove(item.client_id);
  assert.deepEqual(new Outbox(storage).items.map((i) => i.body), ['Hallo']);
});

test('an outbox saved in a shape it does not know starts empty', () => {
  const storage = memoryStorage();
  storage.setItem('dugnad.outbox', '{"not":"a list"');
  assert.deepEqual(new Outbox(storage).items, []);
  storage.setItem('dugnad.outbox', '[{"body":"no id"}, null, 3]');
  assert.deepEqual(new Outbox(storage).items, []);
});

test('an edit replaces the held body; a change naming another message at that seq is ignored', () => {
  const ch = new ChannelState({ name: 'general', last_seq: 0 });
  ch.addMessage(message(1));
  const before = ch.version;
  assert.equal(ch.applyEdit({ seq: 1, id: 'm1', body: 'fixed', edited_at: 5 }), true);
  assert.equal(ch.bySeq.get(1).body, 'fixed');
  assert.ok(ch.version > before, 'the list redraws');
  assert.equal(ch.applyEdit({ seq: 1, id: 'm1', body: 'fixed', edited_at: 5 }), false, 'the same edit twice changes nothing');
  assert.equal(ch.applyEdit({ seq: 1, id: 'other', body: 'wrong' }), false);
  assert.equal(ch.applyEdit({ seq: 9, id: 'm9', body: 'not held' }), false);
  assert.equal(ch.bySeq.get(1).body, 'fixed');
});

test('a deletion drops the body and reactions, keeps the seq, and is not undone by a late edit', () => {
  const ch = new ChannelState({ name: 'general', last_seq: 0 });
  ch.addMessage(message(1, { reactions: [{ emoji: '👍', count: 1, users: ['kari'] }] }));
  ch.addMessage(message(2));
  assert.equal(ch.applyDelete({ seq: 1, id: 'm1' }), true);
  const gone = ch.bySeq.get(1);
  assert.equal(gone.deleted, true);
  assert.equal(gone.body, undefined);
  assert.equal(ch.reactions.has('m1'), false);
  assert.equal(ch.applyEdit({ seq: 1, id: 'm1', body: 'late edit', edited_at: 9 }), false);
  assert.equal(ch.applyDelete({ seq: 1, id: 'm1' }), false);
  assert.deepEqual(ch.order.map((m) => m.seq), [1, 2]);
});
