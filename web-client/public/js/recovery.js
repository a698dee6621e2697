// Recovery after a (re)connect: what a rejoin asks the hub for, and how its reply
// changes a channel's state (protocol.md, "Memberships, subscriptions, presence").
// No DOM and no connection here, so the hard cases (a gap, a duplicate, a new epoch,
// a truncated replay) are tested under Node (web-client/tests/unit).

/** The fields of a `join` that picks up where this page left off: `since` and `epoch`
 *  when the channel's history is known, else the latest `historyPage` messages. */
export function rejoinFields(ch, historyPage) {
  if (ch.epoch !== null && ch.epoch !== undefined) return { channel: ch.name, since: ch.syncedSeq, epoch: ch.epoch };
  return { channel: ch.name, history: historyPage };
}

/**
 * Apply a `join` reply to `ch`. `absorb(ch, message)` adds one message (the app's
 * version also confirms an outbox item that carries its client_id). Returns what
 * happened, for the app to tell the person and to fetch what is still missing:
 *   outcome  'recovered' | 'reset' (another epoch: the old history is gone) |
 *            'skipped' (too much was missed to replay: the latest page is fetched) |
 *            'history' (a join without `since`)
 *   fillGap  true when a hole remains between syncedSeq and the newest message held
 */
export function applyJoinReply(ch, reply, fields, absorb) {
  const info = reply.channel || {};
  // The hub titles a direct channel for its reader (the others' names) here as in the welcome.
  ch.updateInfo(info);
  const lastSeq = typeof reply.last_seq === 'number' ? reply.last_seq : ch.lastSeq;
  const messages = Array.isArray(reply.messages) ? reply.messages : [];
  let outcome;

  if ('since' in fields) {
    if (reply.recovered === false) {
      ch.reset({ epoch: info.epoch ?? ch.epoch, lastSeq });
      // A read position of the old epoch means nothing in the new one.
      ch.readSeq = Math.min(ch.readSeq, lastSeq);
      outcome = 'reset';
    } else if (reply.truncated || reply.changes_truncated) {
      // Too much was missed, or more was edited or deleted than the reply could list:
      // what is held may be stale, so the latest page is fetched again.
      ch.reset({ lastSeq });
      outcome = 'skipped';
    } else {
      for (const m of messages) absorb(ch, m);
      // Edits and deletions of messages held from before, made while this page was away.
      for (const change of Array.isArray(reply.changes) ? reply.changes : []) ch.applyChange(change);
      ch.lastSeq = Math.max(ch.lastSeq, lastSeq);
      ch.advanceSynced();
      outcome = 'recovered';
    }
    // The read position is shared by the user's devices and only moves forward.
    if (typeof reply.read_seq === 'number') ch.applyReadPosition(Math.min(reply.read_seq, ch.lastSeq));
  } else {
    ch.epoch = info.epoch ?? ch.epoch;
    for (const m of messages) absorb(ch, m);
    ch.lastSeq = Math.max(ch.lastSeq, lastSeq);
    ch.syncedSeq = Math.max(ch.syncedSeq, lastSeq);
    ch.advanceSynced();
    ch.historyLoaded = true;
    ch.hasOlder = messages.length > 0 ? messages[0].seq > 1 : false;
    if (typeof reply.read_seq === 'number') ch.readSeq = reply.read_seq;
    else if (ch.readSeq === 0) ch.readSeq = lastSeq; // a new member starts at last_seq
    outcome = 'history';
  }
  if (info.epoch && ch.epoch === null) ch.epoch = info.epoch;

  ch.presence = Array.isArray(reply.presence) ? reply.presence : [];
  ch.presenceMode = reply.presence_mode === 'counts' ? 'counts' : 'list';
  ch.presenceCount = typeof reply.presence_count === 'number' ? reply.presence_count : ch.presence.length;
  ch.joined = true;
  return { outcome, fillGap: ch.hasGap };
}

/** A live `message` event: add it unless this seq is held (a message published during
 *  a join can arrive both in the reply and as an event). Returns whether it was new and
 *  whether a hole now shows (a message arrived past one we never got). */
export function applyLiveMessage(ch, message) {
  if (!ch.addMessage(message)) return { added: false, gap: false };
  ch.advanceSynced();
  return { added: true, gap: ch.hasGap };
}
