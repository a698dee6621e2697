// The stall watch (js/stall.js) with a hand-driven clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { StallWatch } from '../../public/js/stall.js';

function clock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map();
  return {
    now: () => now,
    setTimer: (fn, ms) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (id) => timers.delete(id),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
  };
}

function watch({ waiting = () => true } = {}) {
  const c = clock();
  const log = [];
  const w = new StallWatch(
    { probe: () => log.push(['probe', c.now()]), dead: (why) => log.push(['dead', c.now(), why]), waiting },
    { suspectAfterMs: 1000, probeTimeoutMs: 3000, now: c.now, setTimer: c.setTimer, clearTimer: c.clearTimer },
  );
  return { w, c, log };
}

test('an unanswered request is probed after 1 s and declared dead 3 s later (4 s in all)', () => {
  const { w, c, log } = watch();
  w.requestSent();
  c.advance(999);
  assert.deepEqual(log, []);
  c.advance(1);
  assert.deepEqual(log, [['probe', 1000]]);
  c.advance(3000);
  assert.deepEqual(log, [['probe', 1000], ['dead', 4000, 'stalled']]);
});

test('any frame from the hub during the probe keeps the connection', () => {
  let pending = true;
  const { w, c, log } = watch({ waiting: () => pending });
  w.requestSent();
  c.advance(2000);
  pending = false;
  w.heard(); // the ping's reply
  c.advance(60000);
  assert.deepEqual(log, [['probe', 1000]]);
});

test('a hub that answers slowly but keeps sending is never probed', () => {
  const { w, c, log } = watch();
  w.requestSent();
  for (let i = 0; i < 20; i += 1) {
    c.advance(900);
    w.heard(); // events keep arriving; the request still waits
  }
  assert.deepEqual(log, []);
});

test('nothing waiting, nothing probed', () => {
  const { w, c, log } = watch({ waiting: () => false });
  w.heard();
  c.advance(60000);
  assert.deepEqual(log, []);
});

test('check() probes at once (page shown again, browser online or offline)', () => {
  const { w, c, log } = watch({ waiting: () => false });
  w.check();
  w.check(); // a second ask during the probe does not restart its deadline
  c.advance(3000);
  assert.deepEqual(log, [['probe', 0], ['dead', 3000, 'stalled']]);
});

test('reset() after the connection ended forgets the pending deadline', () => {
  const { w, c, log } = watch();
  w.requestSent();
  c.advance(1500);
  w.reset();
  c.advance(10000);
  assert.deepEqual(log, [['probe', 1000]]);
});

test('a hub that answered slowly lately gets a longer probe deadline (twice its slowest reply, at most 10 s)', () => {
  const { w, c, log } = watch();
  w.roundTrip(50);
  assert.equal(w.probeDeadlineMs, 3000);
  w.roundTrip(2000);
  assert.equal(w.probeDeadlineMs, 4000);
  w.roundTrip(60000);
  assert.equal(w.probeDeadlineMs, 10000);
  for (let i = 0; i < 8; i += 1) w.roundTrip(10); // the slow ones age out
  assert.equal(w.probeDeadlineMs, 3000);
  w.roundTrip(2500);
  w.requestSent();
  c.advance(1000 + 4999);
  assert.deepEqual(log, [['probe', 1000]]);
  c.advance(1);
  assert.deepEqual(log, [['probe', 1000], ['dead', 6000, 'stalled']]);
});
