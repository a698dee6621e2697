// Browser notifications (js/notify.js): when they are shown, and asking only on request.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Notifier, shouldNotify } from '../../public/js/notify.js';

function fakeWindow({ permission = 'default', visibility = 'hidden', answer = 'granted' } = {}) {
  const shown = [];
  class FakeNotification {
    static permission = permission;
    static async requestPermission() {
      FakeNotification.permission = answer;
      return answer;
    }
    constructor(title, options) {
      shown.push({ title, ...options });
    }
  }
  return { win: { Notification: FakeNotification, document: { visibilityState: visibility } }, shown };
}

test('a notification only when supported, allowed and the tab hidden', () => {
  assert.equal(shouldNotify({ supported: true, permission: 'granted', visibility: 'hidden' }), true);
  assert.equal(shouldNotify({ supported: true, permission: 'granted', visibility: 'visible' }), false);
  assert.equal(shouldNotify({ supported: true, permission: 'default', visibility: 'hidden' }), false);
  assert.equal(shouldNotify({ supported: true, permission: 'denied', visibility: 'hidden' }), false);
  assert.equal(shouldNotify({ supported: false, permission: 'granted', visibility: 'hidden' }), false);
});

test('asking is offered until the browser was asked; the answer is kept', async () => {
  const { win } = fakeWindow();
  const n = new Notifier(win);
  assert.equal(n.canAsk, true);
  assert.equal(await n.ask(), 'granted');
  assert.equal(n.canAsk, false);
  const refused = new Notifier(fakeWindow({ permission: 'denied' }).win);
  assert.equal(refused.canAsk, false);
  assert.equal(await refused.ask(), 'denied');
  assert.equal(new Notifier({}).canAsk, false, 'a browser without notifications offers nothing');
});

test('notify shows one while hidden and nothing while the tab is in view', () => {
  const hidden = fakeWindow({ permission: 'granted' });
  assert.ok(new Notifier(hidden.win).notify({ title: 'Kari mentioned you in #kaffe', body: 'Hei @ola', tag: 'm1' }));
  assert.deepEqual(hidden.shown, [{ title: 'Kari mentioned you in #kaffe', body: 'Hei @ola', tag: 'm1' }]);
  const visible = fakeWindow({ permission: 'granted', visibility: 'visible' });
  assert.equal(new Notifier(visible.win).notify({ title: 'x', body: 'y', tag: 'z' }), null);
  assert.deepEqual(visible.shown, []);
});
