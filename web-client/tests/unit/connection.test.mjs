// The protocol client (js/connection.js) against a stand-in WebSocket and Node's mock
// timers: reconnect with backoff, a stalled socket dropped within 4 s, close codes.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';

import { Connection, State } from '../../public/js/connection.js';

class FakeSocket {
  static all = [];
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.sent = [];
    this.closed = null;
    FakeSocket.all.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close(code, reason) {
    this.closed = { code, reason };
  }
  // -- the hub's side
  accept(welcome = { type: 'welcome', user: { id: 'kari' }, channels: [] }) {
    this.onopen();
    this.onmessage({ data: JSON.stringify(welcome) });
  }
  frame(obj) {
    this.onmessage({ data: JSON.stringify(obj) });
  }
  drop(code = 1006, reason = '') {
    this.onclose({ code, reason, wasClean: false });
  }
}

function connect(options = {}) {
  const conn = new Connection({ url: 'ws://hub/ws', token: 'T', WebSocket: FakeSocket, window: null, document: null, ...options });
  const states = [];
  conn.on('state', (s) => states.push(s.state));
  conn.start();
  return { conn, states, socket: () => FakeSocket.all[FakeSocket.all.length - 1] };
}

beforeEach(() => {
  FakeSocket.all = [];
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
});
afterEach(() => mock.timers.reset());

test('the token goes in the first frame, never in the URL', () => {
  const { conn, socket } = connect();
  socket().accept();
  assert.equal(socket().url, 'ws://hub/ws');
  assert.deepEqual(socket().sent[0], { type: 'auth', token: 'T' });
  assert.equal(conn.state, State.ready);
});

test('a publish on a stalled socket: pinged after 1 s, dropped after 4 s, then a new socket', async () => {
  const { conn, states, socket } = connect();
  socket().accept();
  const first = socket();
  const publish = conn.request('publish', { channel: 'general', body: 'Hei', client_id: 'c1' });
  mock.timers.tick(1000);
  assert.equal(first.sent.at(-1).type, 'ping', 'the watch asks the hub directly');
  mock.timers.tick(2999);
  assert.equal(conn.state, State.ready);
  mock.timers.tick(1);
  assert.equal(conn.state, State.waiting, 'dead after 4 s: the header says reconnecting');
  await assert.rejects(publish, { code: 'disconnected' }, 'the outbox keeps it and sends it again after the rejoin');
  mock.timers.tick(30000);
  assert.notEqual(socket(), first, 'a new socket opened after the backoff');
  socket().accept();
  assert.equal(conn.state, State.ready);
  assert.deepEqual(states.slice(0, 4), [State.connecting, State.ready, State.waiting, State.connecting]);
});

test('a slow answer on a live socket is not a stall', async () => {
  const { conn, socket } = connect();
  socket().accept();
  const publish = conn.request('publish', { channel: 'general', body: 'Hei' });
  mock.timers.tick(1000);
  const ping = socket().sent.at(-1);
  socket().frame({ type: 'reply', ref: ping.ref, ok: true });
  mock.timers.tick(5000);
  socket().frame({ type: 'reply', ref: 1, ok: true, message: { seq: 1 } });
  assert.equal((await publish).message.seq, 1);
  assert.equal(conn.state, State.ready);
  assert.equal(FakeSocket.all.length, 1);
});

test('a transport close reconnects with growing, jittered backoff', () => {
  const { conn, socket } = connect({ backoffBaseMs: 500, backoffMaxMs: 30000 });
  socket().accept();
  const delays = [];
  conn.on('state', (s) => s.state === State.waiting && delays.push(s.delay));
  for (let i = 0; i < 5; i += 1) {
    socket().drop();
    mock.timers.tick(30000);
  }
  assert.equal(FakeSocket.all.length, 6);
  delays.forEach((d, i) => {
    const ceiling = Math.min(30000, 500 * 2 ** i);
    assert.ok(d >= ceiling / 2 && d <= ceiling, `attempt ${i}: ${d} ms within [${ceiling / 2}, ${ceiling}]`);
  });
});

test('4001 asks for a new token and opens no other socket; 4500 stops for good', () => {
  const first = connect();
  first.socket().accept();
  let unauthorized = 0;
  first.conn.on('unauthorized', () => (unauthorized += 1));
  first.socket().drop(4001, 'token_expired');
  mock.timers.tick(60000);
  assert.equal(unauthorized, 1);
  assert.equal(FakeSocket.all.length, 1);

  const second = connect();
  second.socket().accept();
  second.socket().drop(4500, 'banned');
  mock.timers.tick(60000);
  assert.equal(second.conn.state, State.stopped);
  assert.equal(FakeSocket.all.length, 2);
});

test('a frame that is not JSON is ignored, and still counts as the hub being there', () => {
  const { conn, socket } = connect();
  socket().accept();
  conn.request('history', { channel: 'general' }).catch(() => {});
  mock.timers.tick(900);
  socket().onmessage({ data: 'not json' });
  mock.timers.tick(900);
  assert.notEqual(socket().sent.at(-1).type, 'ping');
  assert.equal(conn.state, State.ready);
});
