// The Dugnad protocol client: one WebSocket to the hub, authentication by a
// first `auth` frame, request/reply matched by `ref`, event dispatch, and
// reconnection with exponential backoff and jitter, and a stall watch (stall.js) that
// drops a connection which stopped answering while something waits.
//
// This module knows nothing about the DOM. The app subscribes to events with
// `on(type, handler)` and talks to the hub with `request()` and `send()`.

import { StallWatch } from './stall.js';

/** Subprotocol offered on every upgrade (protocol.md §1). */
export const SUBPROTOCOL = 'dugnad.v1';

/** Close codes the client reacts to (protocol.md §1, §2). */
export const CloseCode = Object.freeze({
  unauthorized: 4001,
  slowConsumer: 4008,
  rateLimited: 4029,
  firstReconnectable: 4000,
  lastReconnectable: 4499,
  firstFatal: 4500,
  lastFatal: 4999,
});

/** Connection states, in the order a healthy connection moves through them. */
export const State = Object.freeze({
  idle: 'idle',
  connecting: 'connecting', // socket opening or auth frame sent, no welcome yet
  ready: 'ready', // welcome received
  waiting: 'waiting', // dropped; a reconnect is scheduled
  offline: 'offline', // held offline (tests) or the browser reports no network
  unauthorized: 'unauthorized', // 4001: the token is no good; needs a new one
  stopped: 'stopped', // 4500+: the hub told us not to come back
});

/** An `ok:false` reply, or a request that could not complete. */
export class ProtocolError extends Error {
  constructor(code, message, details = {}) {
    super(message || code);
    this.name = 'ProtocolError';
    this.code = code;
    this.retryAfterMs = typeof details.retry_after_ms === 'number' ? details.retry_after_ms : null;
    this.details = details;
  }
}

const DEFAULTS = {
  protocol: SUBPROTOCOL,
  requestTimeoutMs: 15000,
  welcomeTimeoutMs: 15000,
  backoffBaseMs: 500,
  backoffMaxMs: 30000,
  // A client-side liveness check while nothing else is going on: browsers answer the
  // hub's pings on their own but cannot tell us when a silent network has died.
  livenessIntervalMs: 30000,
  // The stall watch (stall.js): how long a request may go without a word from the hub
  // before the hub is pinged, and how long that ping may take.
  suspectAfterMs: 1000,
  probeTimeoutMs: 3000,
  // Tests hand in a stand-in for the browser's WebSocket, window and document.
  WebSocket: typeof WebSocket === 'undefined' ? null : WebSocket,
  window: typeof window === 'undefined' ? null : window,
  document: typeof document === 'undefined' ? null : document,
};

export class Connection {
  /**
   * @param {object} options
   * @param {string} options.url   ws:// or wss:// URL of `/ws` (no token in it)
   * @param {string} options.token JWT sent in the first `auth` frame
   */
  constructor(options) {
    this.options = { ...DEFAULTS, ...options };
    this.token = options.token;
    this.ws = null;
    this.state = State.idle;
    this.attempt = 0;
    this.nextRef = 1;
    this.pending = new Map(); // ref -> {resolve, reject, timer, type}
    this.handlers = new Map(); // type -> Set(handler)
    this.reconnectTimer = null;
    this.welcomeTimer = null;
    this.livenessTimer = null;
    this.retryAfterHintMs = null; // from a recent error frame
    this.retryAfterHintAt = 0;
    this.holdOffline = false;
    this.reconnectAt = null;
    this.lastClose = null;
    this.welcome = null;
    this.stall = new StallWatch(
      {
        probe: () => this.sendPing(),
        dead: (why) => this.dropSocket(this.ws, why),
        waiting: () => this.pending.size > 0,
      },
      { suspectAfterMs: this.options.suspectAfterMs, probeTimeoutMs: this.options.probeTimeoutMs },
    );
    // The browser's word on the network: going offline, back online, or a page shown
    // again after a laptop slept each ask the hub at once rather than at the next tick.
    this.onBrowserOnline = () => {
      if (this.state === State.waiting) this.reconnectNow();
      else this.checkLiveness();
    };
    this.onBrowserOffline = () => this.checkLiveness();
    this.onVisible = () => {
      if (this.options.document.visibilityState === 'visible') this.checkLiveness();
    };
  }

  // ---- events -------------------------------------------------------------

  /** Subscribe to a server event type (`message`, `welcome`, ...) or to the
   *  connection's own `state`, `unauthorized`, `fatal`. Returns an unsubscriber. */
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type)?.delete(handler);
  }

  emit(type, payload) {
    const set = this.handlers.get(type);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(payload);
      } catch (err) {
        console.error(`dugnad: handler for "${type}" failed`, err);
      }
    }
  }

  setState(state, extra = {}) {
    this.state = state;
    this.emit('state', { state, attempt: this.attempt, reconnectAt: this.reconnectAt, ...extra });
  }

  get isReady() {
    return this.state === State.ready;
  }

  // ---- lifecycle ----------------------------------------------------------

  start() {
    const { window: win, document: doc } = this.options;
    win?.addEventListener('online', this.onBrowserOnline);
    win?.addEventListener('offline', this.onBrowserOffline);
    doc?.addEventListener('visibilitychange', this.onVisible);
    this.open();
  }

  /** Close for good (sign-out). */
  stop() {
    this.clearTimers();
    this.holdOffline = false;
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, 'bye');
    this.failPending('stopped', 'The connection was closed.');
    const { window: win, document: doc } = this.options;
    win?.removeEventListener('online', this.onBrowserOnline);
    win?.removeEventListener('offline', this.onBrowserOffline);
    doc?.removeEventListener('visibilitychange', this.onVisible);
    this.setState(State.stopped, { reason: 'signed_out' });
  }

  setToken(token) {
    this.token = token;
  }

  open() {
    this.clearTimers();
    this.reconnectAt = null;
    this.welcome = null;
    this.stall.reset();
    this.setState(State.connecting);
    let ws;
    try {
      ws = new this.options.WebSocket(this.options.url, [this.options.protocol]);
    } catch (err) {
      console.error('dugnad: cannot open WebSocket', err);
      this.scheduleReconnect(null);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      // The token travels in the first frame, never in the URL.
      ws.send(JSON.stringify({ type: 'auth', token: this.token }));
      this.authSentAt = Date.now();
      this.welcomeTimer = setTimeout(() => {
        if (ws === this.ws && this.state === State.connecting) this.dropSocket(ws, 'welcome_timeout');
      }, this.options.welcomeTimeoutMs);
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      this.handleFrame(ev.data);
    };
    ws.onerror = () => {
      // Always followed by a close event; nothing to do here.
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.handleClose(ev.code, ev.reason || '', ev.wasClean);
    };
  }

  handleFrame(data) {
    this.stall.heard(); // whatever it is, the hub is there
    if (typeof data !== 'string') return; // the hub sends text frames only
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      console.warn('dugnad: ignoring a frame that is not JSON');
      return;
    }
    if (!frame || typeof frame !== 'object' || typeof frame.type !== 'string') return;

    switch (frame.type) {
      case 'welcome':
        clearTimeout(this.welcomeTimer);
        this.stall.roundTrip(Date.now() - this.authSentAt);
        this.welcome = frame;
        this.attempt = 0;
        this.lastClose = null;
        this.setState(State.ready);
        this.startLiveness();
        this.emit('welcome', frame);
        return;
      case 'reply':
        this.handleReply(frame);
        return;
      case 'error':
        if (typeof frame.retry_after_ms === 'number') {
          this.retryAfterHintMs = frame.retry_after_ms;
          this.retryAfterHintAt = Date.now();
        }
        this.emit('error', frame);
        return;
      default:
        this.emit(frame.type, frame);
    }
  }

  handleReply(frame) {
    const entry = this.pending.get(frame.ref);
    if (!entry) return; // a reply to a request we gave up on
    this.pending.delete(frame.ref);
    clearTimeout(entry.timer);
    this.stall.roundTrip(Date.now() - entry.sentAt);
    if (frame.ok) {
      entry.resolve(frame);
    } else {
      const error = frame.error || {};
      entry.reject(new ProtocolError(error.code || 'internal', error.message || 'The request failed.', error));
    }
  }

  handleClose(code, reason, wasClean) {
    this.stall.reset();
    clearTimeout(this.welcomeTimer);
    clearInterval(this.livenessTimer);
    this.failPending('disconnected', 'The connection dropped before the hub answered.');
    this.lastClose = { code, reason, wasClean, at: Date.now() };

    if (code === CloseCode.unauthorized) {
      this.setState(State.unauthorized, { code, reason });
      this.emit('unauthorized', { code, reason });
      return;
    }
    if (code >= CloseCode.firstFatal && code <= CloseCode.lastFatal) {
      this.setState(State.stopped, { code, reason });
      this.emit('fatal', { code, reason });
      return;
    }
    // 4000–4499 and every transport-level close (1001 going away, 1006
    // abnormal, 1011 ...) are reconnectable.
    this.scheduleReconnect(this.retryAfterFor(code, reason));
  }

  /** `retry_after_ms` may come in the close reason (JSON or `retry_after_ms=N`)
   *  or in an `error` frame just before the close. */
  retryAfterFor(code, reason) {
    if (reason) {
      try {
        const parsed = JSON.parse(reason);
        if (parsed && typeof parsed.retry_after_ms === 'number') return parsed.retry_after_ms;
      } catch {
        const match = /retry_after_ms[=:]\s*(\d+)/.exec(reason);
        if (match) return Number(match[1]);
      }
    }
    if (this.retryAfterHintMs !== null && Date.now() - this.retryAfterHintAt < 10000) {
      const hint = this.retryAfterHintMs;
      this.retryAfterHintMs = null;
      return hint;
    }
    return null;
  }

  /** Exponential backoff with "equal jitter": half the ceiling plus a random
   *  half, so clients that dropped together spread out but never hammer. */
  backoffDelay() {
    const { backoffBaseMs, backoffMaxMs } = this.options;
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** this.attempt);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  scheduleReconnect(retryAfterMs) {
    clearTimeout(this.reconnectTimer);
    if (this.holdOffline) {
      this.reconnectAt = null;
      this.setState(State.offline);
      return;
    }
    const backoff = this.backoffDelay();
    const delay = retryAfterMs !== null && retryAfterMs !== undefined ? Math.max(retryAfterMs, backoff / 4) : backoff;
    this.attempt += 1;
    this.reconnectAt = Date.now() + delay;
    this.setState(State.waiting, { delay });
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  /** Skip the rest of the backoff (the "Retry now" button, `online` event). */
  reconnectNow() {
    this.holdOffline = false;
    if (this.state === State.waiting || this.state === State.offline) this.open();
  }

  clearTimers() {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.welcomeTimer);
    clearInterval(this.livenessTimer);
  }

  dropSocket(ws, why) {
    // Close without a handshake round trip: detach first, then treat it as a
    // network drop (code 1006) so the usual reconnect path runs.
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(1000, why);
    } catch {
      /* already closed */
    }
    if (ws === this.ws) {
      this.ws = null;
      this.handleClose(1006, why, false);
    }
  }

  startLiveness() {
    clearInterval(this.livenessTimer);
    this.livenessTimer = setInterval(() => this.checkLiveness(), this.options.livenessIntervalMs);
  }

  /** Ping the hub; a connection that does not answer within probeTimeoutMs is
   *  dropped (the stall watch decides). */
  checkLiveness() {
    if (this.isReady) this.stall.check();
  }

  /** The stall watch's probe. Its reply, like any frame, is what the watch waits for;
   *  the request's own outcome does not matter. */
  sendPing() {
    if (!this.isReady) return;
    this.request('ping', {}, { timeoutMs: this.options.probeTimeoutMs * 2 }).catch(() => {});
  }

  failPending(code, message) {
    for (const [ref, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new ProtocolError(code, message));
      this.pending.delete(ref);
    }
  }

  // ---- sending ------------------------------------------------------------

  /**
   * Send a command with a `ref` and resolve with its reply (`ok:true`), or
   * reject with a ProtocolError (`ok:false`, `offline`, `disconnected`,
   * `timeout`).
   */
  request(type, fields = {}, { timeoutMs } = {}) {
    if (!this.isReady || !this.ws) {
      return Promise.reject(new ProtocolError('offline', 'Not connected to the hub.'));
    }
    const ref = this.nextRef++;
    const frame = { ...fields, type, ref };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(ref)) reject(new ProtocolError('timeout', 'The hub did not answer in time.'));
      }, timeoutMs ?? this.options.requestTimeoutMs);
      this.pending.set(ref, { resolve, reject, timer, type, sentAt: Date.now() });
      try {
        this.ws.send(JSON.stringify(frame));
        this.stall.requestSent();
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(ref);
        reject(new ProtocolError('disconnected', String(err)));
      }
    });
  }

  /** Fire-and-forget command (no `ref`, no reply on success). */
  send(type, fields = {}) {
    if (!this.isReady || !this.ws) return false;
    try {
      this.ws.send(JSON.stringify({ ...fields, type }));
      return true;
    } catch {
      return false;
    }
  }

  // ---- test hooks ---------------------------------------------------------

  /** Drop the socket as a network failure would. With `stayOffline`, no
   *  reconnect happens until `reconnectNow()`. */
  debugDrop({ stayOffline = false } = {}) {
    this.holdOffline = stayOffline;
    const ws = this.ws;
    if (ws) {
      this.dropSocket(ws, 'debug_drop');
    } else if (stayOffline) {
      clearTimeout(this.reconnectTimer);
      this.setState(State.offline);
    }
  }
}

/** The hub's WebSocket endpoint on the page's own host. */
export function hubURL(loc = globalThis.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/ws`;
}
