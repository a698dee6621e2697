// Sending the outbox (js/sender.js): in order per channel, retried with the same
// client_id, never lost on a dropped connection, failed only when the hub refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { retryPolicy, Sender } from '../../public/js/sender.js';
import { Outbox } from '../../public/js/store.js';

const error = (code, extra = {}) => Object.assign(new Error(code), { code, retryAfterMs: null, ...extra });

function harness({ answers, canSend = () => true }) {
  const outbox = new Outbox(null);
  const sent = [];
  const confirmed = [];
  const timers = [];
  const sender = new Sender(
    outbox,
    {
      publish: async (fields) => {
        sent.push(fields);
        const answer = answers.shift();
        if (answer instanceof Error) throw answer;
        return answer ?? { message: { seq: sent.length, channel: fields.channel, client_id: fields.client_id } };
      },
      canSend,
      confirmed: (item, m) => confirmed.push(m.seq),
      describe: (err) => `refused: ${err.code}`,
      changed: () => {},
    },
    { setTimer: (fn, ms) => timers.push({ fn, ms }) },
  );
  return { outbox, sender, sent, confirmed, timers };
}

test('publishes of one channel go out in the order written, each confirmed once', async () => {
  const { outbox, sender, sent, confirmed } = harness({ answers: [] });
  const a = outbox.add({ channel: 'general', body: 'en' });
  const b = outbox.add({ channel: 'general', body: 'to' });
  sender.queue(a);
  await sender.queue(b);
  assert.deepEqual(sent.map((f) => f.body), ['en', 'to']);
  assert.deepEqual(confirmed, [1, 2]);
  assert.equal(outbox.items.length, 0);
});

test('a timeout is retried after 2 s with the same client_id (the hub answers a repeat with the stored message)', async () => {
  const { outbox, sender, sent, timers } = harness({ answers: [error('timeout')] });
  const item = outbox.add({ channel: 'general', body: 'Hei' });
  await sender.queue(item);
  assert.equal(item.status, 'queued');
  assert.equal(timers[0].ms, 2000);
  await timers[0].fn();
  assert.equal(sent.length, 2);
  assert.equal(sent[0].client_id, sent[1].client_id);
  assert.equal(outbox.items.length, 0);
});

test('a rate limit waits as long as the hub says', async () => {
  const { outbox, sender, timers } = harness({ answers: [error('rate_limited', { retryAfterMs: 350 })] });
  await sender.queue(outbox.add({ channel: 'general', body: 'Hei' }));
  assert.equal(timers[0].ms, 350);
});

test('a dropped connection keeps the message queued, with no timer: the rejoin flushes it', async () => {
  let ready = true;
  const { outbox, sender, sent, timers } = harness({ answers: [error('disconnected')], canSend: () => ready });
  const item = outbox.add({ channel: 'general', body: 'Hei' });
  await sender.queue(item);
  assert.equal(item.status, 'queued');
  assert.equal(timers.length, 0);
  ready = false;
  sender.flush('general');
  await sender.chains.get('general');
  assert.equal(sent.length, 1, 'nothing is sent while offline');
  ready = true;
  sender.flush('general');
  await sender.chains.get('general');
  assert.equal(sent.length, 2);
  assert.equal(outbox.items.length, 0);
});

test('a refusal fails the message with the reason, and a flush does not send it again', async () => {
  const { outbox, sender, sent } = harness({ answers: [error('too_large')] });
  const item = outbox.add({ channel: 'general', body: 'x' });
  await sender.queue(item);
  assert.equal(item.status, 'failed');
  assert.equal(item.error, 'refused: too_large');
  sender.flush('general');
  await sender.chains.get('general');
  assert.equal(sent.length, 1);
  assert.equal(outbox.items.length, 1, 'kept for Retry or Discard');
});

test('the retry policy by error code', () => {
  assert.deepEqual(retryPolicy(error('offline')), { status: 'queued', retryInMs: null });
  assert.deepEqual(retryPolicy(error('forbidden')), { status: 'failed', retryInMs: null });
  assert.deepEqual(retryPolicy(error('rate_limited')), { status: 'queued', retryInMs: 1000 });
});
