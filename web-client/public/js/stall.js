// Noticing a connection that died without closing: a proxy or a NAT that stopped
// forwarding, a phone that changed network. TCP says nothing for a minute or more, and
// the hub's own pings only close the connection on its side (two missed, 50 s).
//
// The rule: once something waits for the hub (a publish, a join, any request), the hub
// must say something within `suspectAfterMs`. If it does not, the watch asks it
// directly (the `ping` command, which the hub answers at once) and gives it
// `probeTimeoutMs` more. Silence then means the connection is dead: worst case
// suspectAfterMs + probeTimeoutMs (4 s by default) after the request went out, against
// 36 s with only the periodic check. Any frame from the hub counts as an answer: a busy
// hub that is still sending events is alive.
//
// A hub on a busy machine answers slowly without being gone: the probe's deadline grows
// to twice the slowest of the last eight replies (a ping is the lightest command there
// is), at most `maxProbeTimeoutMs`, so a busy hub is not taken for a dead one.

export const STALL_DEFAULTS = Object.freeze({
  suspectAfterMs: 1000,
  probeTimeoutMs: 3000,
  maxProbeTimeoutMs: 10000,
});

const ROUND_TRIPS_KEPT = 8;

export class StallWatch {
  /**
   * @param {object} hooks
   * @param {() => void} hooks.probe        send an application-level ping now
   * @param {(why: string) => void} hooks.dead  the connection is dead: drop it
   * @param {() => boolean} hooks.waiting   is any request still unanswered?
   * @param {object} [options]  suspectAfterMs, probeTimeoutMs, now, setTimer, clearTimer
   */
  constructor(hooks, options = {}) {
    this.hooks = hooks;
    // Wrapped: a browser's setTimeout called as a method of another object throws.
    const timers = { now: () => Date.now(), setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (id) => clearTimeout(id) };
    this.o = { ...STALL_DEFAULTS, ...timers, ...options };
    this.timer = null;
    this.phase = 'idle'; // idle | watching | probing | dead
    this.lastHeard = this.o.now();
    this.probeStartedAt = null;
    this.roundTrips = [];
  }

  /** How long a reply took (ms): the probe waits longer for a hub that is slow today. */
  roundTrip(ms) {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.roundTrips.push(ms);
    if (this.roundTrips.length > ROUND_TRIPS_KEPT) this.roundTrips.shift();
  }

  /** The probe's deadline now. */
  get probeDeadlineMs() {
    const slowest = this.roundTrips.length ? Math.max(...this.roundTrips) : 0;
    return Math.min(this.o.maxProbeTimeoutMs, Math.max(this.o.probeTimeoutMs, 2 * slowest));
  }

  /** A request went out and waits for its reply. */
  requestSent() {
    if (this.phase === 'idle') this.arm('watching', this.o.suspectAfterMs);
  }

  /** Any frame arrived from the hub. */
  heard() {
    if (this.phase === 'dead') return;
    this.lastHeard = this.o.now();
    this.clear();
    this.phase = 'idle';
    if (this.hooks.waiting()) this.arm('watching', this.o.suspectAfterMs);
  }

  /** Ask now (the page became visible again, the browser went offline or online):
   *  unless the hub answers within probeTimeoutMs, the connection is dead. */
  check() {
    if (this.phase === 'probing' || this.phase === 'dead') return;
    this.startProbe();
  }

  /** The connection ended (or a new one starts): forget everything. */
  reset() {
    this.clear();
    this.phase = 'idle';
    this.lastHeard = this.o.now();
    this.probeStartedAt = null;
  }

  arm(phase, ms) {
    this.clear();
    this.phase = phase;
    this.timer = this.o.setTimer(() => this.fire(), ms);
  }

  clear() {
    if (this.timer !== null) this.o.clearTimer(this.timer);
    this.timer = null;
  }

  fire() {
    this.timer = null;
    if (this.phase === 'watching') {
      this.startProbe();
    } else if (this.phase === 'probing') {
      this.phase = 'dead';
      this.hooks.dead('stalled');
    }
  }

  startProbe() {
    this.probeStartedAt = this.o.now();
    this.arm('probing', this.probeDeadlineMs);
    this.hooks.probe();
  }
}
