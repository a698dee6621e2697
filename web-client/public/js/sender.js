// Sending the outbox: each channel's publishes go one after another, in the order
// written, each with its client_id, so that a retry (after a timeout, a rate limit or a
// reconnect) can never store a message twice. No DOM and no socket here: the app hands
// in how to send and what to do with the answer, and unit tests hand in stand-ins.

/** What happens to a publish that failed, by the error's code. */
export function retryPolicy(err) {
  if (err.code === 'rate_limited') return { status: 'queued', retryInMs: err.retryAfterMs ?? 1000 };
  // The hub may have stored it: the same client_id makes the retry answer with that message.
  if (err.code === 'timeout') return { status: 'queued', retryInMs: 2000 };
  // The rejoin after the reconnect sends it again (flush).
  if (['offline', 'disconnected', 'stopped'].includes(err.code)) return { status: 'queued', retryInMs: null };
  return { status: 'failed', retryInMs: null };
}

export class Sender {
  /**
   * @param {Outbox} outbox
   * @param {object} hooks
   * @param {(fields: object) => Promise<object>} hooks.publish  send `publish`, resolve with the reply
   * @param {(channel: string) => boolean} hooks.canSend  connected, and the channel joined
   * @param {(item: object, message: object) => void} hooks.confirmed  the hub stored it
   * @param {(err: Error) => string} hooks.describe  an error in words, for a failed item
   * @param {() => void} hooks.changed  an item's status changed (redraw)
   */
  constructor(outbox, hooks, { setTimer = (fn, ms) => setTimeout(fn, ms) } = {}) {
    this.outbox = outbox;
    this.hooks = hooks;
    this.setTimer = setTimer;
    this.chains = new Map(); // channel -> the promise of its last queued send
  }

  /** Send after the channel's earlier publishes. Returns when this one has been tried. */
  queue(item) {
    const prev = this.chains.get(item.channel) || Promise.resolve();
    const next = prev.then(() => this.trySend(item));
    this.chains.set(item.channel, next);
    return next;
  }

  /** After a (re)join: everything of the channel that is not failed or on its way. */
  flush(channel) {
    for (const item of this.outbox.forChannel(channel)) {
      if (item.status !== 'failed' && !item.inFlight) this.queue(item);
    }
  }

  /** The channel is gone: nothing more is sent to it. */
  forget(channel) {
    this.chains.delete(channel);
  }

  async trySend(item) {
    if (!this.outbox.find(item.client_id) || item.inFlight || item.status === 'failed') return;
    if (!this.hooks.canSend(item.channel)) return; // flushed again after the rejoin
    item.inFlight = true;
    item.status = 'sending';
    this.hooks.changed();
    try {
      const fields = { channel: item.channel, body: item.body, client_id: item.client_id };
      if (item.reply_to) fields.reply_to = item.reply_to;
      const reply = await this.hooks.publish(fields);
      this.outbox.remove(item.client_id);
      if (reply.message && typeof reply.message.seq === 'number') this.hooks.confirmed(item, reply.message);
    } catch (err) {
      const { status, retryInMs } = retryPolicy(err);
      item.status = status;
      if (status === 'failed') item.error = this.hooks.describe(err);
      if (retryInMs !== null) this.setTimer(() => this.queue(item), retryInMs);
    } finally {
      item.inFlight = false;
      this.hooks.changed();
    }
  }
}
