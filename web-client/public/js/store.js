// Client-side state: channels with their messages (deduplicated by seq and
// kept in seq order), the outbox of publishes not yet confirmed, and the
// announcements this user has received or sent. No DOM here.

import { MentionCount } from './mentions.js';

/** One channel the user is a member of. */
export class ChannelState {
  constructor(info) {
    this.name = info.name;
    this.kind = info.kind || 'public';
    this.title = info.title || '';
    this.epoch = info.epoch ?? null;
    this.lastSeq = info.last_seq ?? 0; // highest seq the hub has (as far as we know)
    this.readSeq = info.read_seq ?? this.lastSeq; // the user's read position
    this.bySeq = new Map(); // seq -> message
    this.byId = new Map(); // id -> message
    this.order = []; // messages sorted by seq
    // Everything up to syncedSeq has been received or deliberately skipped
    // (older history not loaded yet): it is what a rejoin passes as `since`.
    this.syncedSeq = this.lastSeq;
    this.historyLoaded = false;
    this.hasOlder = this.lastSeq > 0;
    this.loadingOlder = false;
    this.joined = false;
    this.joining = null; // the in-flight join promise
    this.presence = [];
    this.presenceCount = 0;
    this.presenceMode = 'list';
    this.typing = new Map(); // user id -> {name, until}
    this.reactions = new Map(); // message id -> Map(emoji -> {users:Set, count})
    this.version = 0; // bumped on every change that affects the message list
    this.mentions = new MentionCount(); // this user's mentions here (mentions.js)
  }

  updateInfo(info) {
    if (info.kind) this.kind = info.kind;
    if (typeof info.title === 'string') this.title = info.title;
  }

  get unread() {
    return Math.max(0, this.lastSeq - this.readSeq);
  }

  get unreadMentions() {
    return this.mentions.unread(this.readSeq);
  }

  /** A read position the hub reported (`read_position` from another device of this
   *  user, a `join` or `mark_read` reply). It only moves forward: a late event from
   *  before a newer local read must not bring back an unread count. Returns true if
   *  the count changed. */
  applyReadPosition(readSeq) {
    if (typeof readSeq !== 'number' || !Number.isFinite(readSeq) || readSeq < 0) return false;
    this.serverReadSeq = Math.max(this.serverReadSeq || 0, readSeq);
    if (readSeq <= this.readSeq) return false;
    const before = this.unread;
    this.readSeq = readSeq;
    // A device may have read a message this one has not received yet.
    if (readSeq > this.lastSeq) this.lastSeq = readSeq;
    return this.unread !== before;
  }

  get lowestSeq() {
    return this.order.length ? this.order[0].seq : this.syncedSeq + 1;
  }

  get highestSeq() {
    return this.order.length ? this.order[this.order.length - 1].seq : 0;
  }

  /** Insert a message unless this seq is already held. Returns true if new. */
  addMessage(message) {
    if (!message || typeof message.seq !== 'number') return false;
    if (this.bySeq.has(message.seq)) return false;
    this.bySeq.set(message.seq, message);
    if (message.id) this.byId.set(message.id, message);
    if (message.reactions) this.setReactionsFromMessage(message);
    const order = this.order;
    if (order.length === 0 || order[order.length - 1].seq < message.seq) {
      order.push(message);
    } else {
      let lo = 0;
      let hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (order[mid].seq < message.seq) lo = mid + 1;
        else hi = mid;
      }
      order.splice(lo, 0, message);
    }
    if (message.seq > this.lastSeq) this.lastSeq = message.seq;
    this.version += 1;
    return true;
  }

  /** An edit (`message_edited`, or an edited message among a rejoin's `changes`): the
   *  held message takes the new body and `edited_at`. One not held yet needs nothing:
   *  history brings it as it is now. Returns true if a held message changed. */
  applyEdit(change) {
    const held = this.heldFor(change);
    if (!held || held.deleted || typeof change.body !== 'string') return false;
    if (held.body === change.body && held.edited_at === change.edited_at) return false;
    held.body = change.body;
    if (typeof change.edited_at === 'number') held.edited_at = change.edited_at;
    if (Array.isArray(change.mentions)) held.mentions = change.mentions;
    this.version += 1;
    return true;
  }

  /** A deletion (`message_deleted`, or `deleted: true` among `changes`): the message
   *  keeps its seq (history stays gapless) and loses its body, meta and reactions. */
  applyDelete(change) {
    const held = this.heldFor(change);
    if (!held || held.deleted) return false;
    held.deleted = true;
    delete held.body;
    held.meta = null;
    held.mentions = [];
    this.mentions.remove(held.seq);
    this.reactions.delete(held.id);
    this.version += 1;
    return true;
  }

  /** Either of the two, as a rejoin's `changes` lists them. */
  applyChange(change) {
    return change && change.deleted === true ? this.applyDelete(change) : this.applyEdit(change || {});
  }

  /** The held message a change names: by seq, and only if the id agrees (after a
   *  history reset a seq may be another message). */
  heldFor(change) {
    const held = typeof change.seq === 'number' ? this.bySeq.get(change.seq) : change.id ? this.byId.get(change.id) : null;
    if (!held || (change.id && held.id && change.id !== held.id)) return null;
    return held;
  }

  /** Advance syncedSeq over every contiguous message we hold. */
  advanceSynced() {
    while (this.bySeq.has(this.syncedSeq + 1)) this.syncedSeq += 1;
  }

  /** True when we hold a message beyond a hole after syncedSeq. */
  get hasGap() {
    return this.highestSeq > this.syncedSeq;
  }

  /** Forget all messages: the history was reset (new epoch) or we skipped ahead. */
  reset({ epoch, lastSeq }) {
    this.bySeq.clear();
    this.byId.clear();
    this.order = [];
    this.reactions.clear();
    if (epoch !== undefined) this.epoch = epoch;
    if (typeof lastSeq === 'number') this.lastSeq = lastSeq;
    this.syncedSeq = this.lastSeq;
    this.historyLoaded = false;
    this.hasOlder = this.lastSeq > 0;
    this.version += 1;
  }

  // ---- reactions ----------------------------------------------------------

  /** Accept the shapes a stored message may carry its reactions in:
   *  [{emoji, count, users:[id|{id}]}] or {emoji: count | [id|{id}]}. */
  setReactionsFromMessage(message) {
    const map = new Map();
    const add = (emoji, users, count) => {
      const ids = new Set((users || []).map((u) => (typeof u === 'string' ? u : u && u.id)).filter(Boolean));
      map.set(emoji, { users: ids, count: typeof count === 'number' ? count : ids.size });
    };
    const r = message.reactions;
    if (Array.isArray(r)) {
      for (const item of r) if (item && typeof item.emoji === 'string') add(item.emoji, item.users || item.user_ids, item.count);
    } else if (r && typeof r === 'object') {
      for (const [emoji, value] of Object.entries(r)) {
        if (Array.isArray(value)) add(emoji, value);
        else if (typeof value === 'number') add(emoji, [], value);
        else if (value && typeof value === 'object') add(emoji, value.users || value.user_ids, value.count);
      }
    }
    this.reactions.set(message.id, map);
  }

  applyReaction(event) {
    const userId = event.user && event.user.id;
    if (!event.message_id || !event.emoji || !userId) return false;
    let map = this.reactions.get(event.message_id);
    if (!map) {
      map = new Map();
      this.reactions.set(event.message_id, map);
    }
    let entry = map.get(event.emoji);
    if (event.op === 'remove') {
      if (!entry) return false;
      if (entry.users.delete(userId)) entry.count = Math.max(0, entry.count - 1);
      else if (entry.count > entry.users.size) entry.count -= 1;
      if (entry.count <= 0) map.delete(event.emoji);
    } else {
      if (!entry) {
        entry = { users: new Set(), count: 0 };
        map.set(event.emoji, entry);
      }
      if (!entry.users.has(userId)) {
        entry.users.add(userId);
        entry.count += 1;
      }
    }
    this.version += 1;
    return true;
  }

  // ---- typing -------------------------------------------------------------

  typingNames(now = Date.now()) {
    const names = [];
    for (const [id, entry] of this.typing) {
      if (entry.until > now) names.push(entry.name);
      else this.typing.delete(id);
    }
    return names;
  }
}

// ---- outbox -----------------------------------------------------------------

const OUTBOX_KEY = 'dugnad.outbox';

/** Publishes not yet confirmed by the hub. Each keeps its client_id, so a
 *  retry after a reconnect (or a reload) cannot store a duplicate. */
export class Outbox {
  constructor(storage = safeStorage('sessionStorage')) {
    this.storage = storage;
    this.items = [];
    try {
      const saved = JSON.parse(storage?.getItem(OUTBOX_KEY) || '[]');
      if (Array.isArray(saved)) this.items = saved.filter((i) => i && i.client_id && i.channel);
    } catch {
      this.items = [];
    }
    for (const item of this.items) {
      item.status = 'queued';
      item.inFlight = false;
    }
  }

  add({ channel, body, reply_to = null }) {
    const item = {
      client_id: newClientId(),
      channel,
      body,
      reply_to,
      created: Date.now(),
      status: 'queued', // queued | sending | failed
      error: null,
      inFlight: false,
    };
    this.items.push(item);
    this.save();
    return item;
  }

  forChannel(name) {
    return this.items.filter((i) => i.channel === name);
  }

  find(clientId) {
    return this.items.find((i) => i.client_id === clientId);
  }

  remove(clientId) {
    this.items = this.items.filter((i) => i.client_id !== clientId);
    this.save();
  }

  save() {
    try {
      this.storage?.setItem(
        OUTBOX_KEY,
        JSON.stringify(this.items.map(({ client_id, channel, body, reply_to, created }) => ({ client_id, channel, body, reply_to, created }))),
      );
    } catch {
      /* storage full or disabled: the outbox still works for this page */
    }
  }
}

export function newClientId() {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---- announcements ---------------------------------------------------------

/** Announcements received by this user, with what they have done about them. */
export class AnnouncementInbox {
  constructor() {
    this.items = new Map(); // id -> {announcement, read, acked, receivedAt, reminded}
  }

  /** From the welcome or an `announcement` event. A repeat (remind) brings
   *  it back to the top of the feed. */
  receive(announcement, { reminder = false } = {}) {
    if (!announcement || !announcement.id) return null;
    let entry = this.items.get(announcement.id);
    if (!entry) {
      entry = { announcement, read: Boolean(announcement.read), acked: Boolean(announcement.acked), receivedAt: Date.now(), reminded: 0 };
      this.items.set(announcement.id, entry);
    } else {
      entry.announcement = { ...entry.announcement, ...announcement };
      if (reminder) {
        entry.reminded += 1;
        entry.receivedAt = Date.now();
        // Reminded users had not acknowledged (or not read): show it again.
        if (entry.announcement.require_ack) entry.acked = false;
        else entry.read = false;
      }
    }
    return entry;
  }

  /** An `announcement_receipt`: this user read or acknowledged it on some device
   *  (this one included, where it is a no-op). Returns true if anything changed. */
  applyReceipt(id, kind) {
    const entry = this.items.get(id);
    if (!entry || (kind !== 'read' && kind !== 'ack')) return false;
    const before = `${entry.read}${entry.acked}`;
    entry.read = true;
    if (kind === 'ack') entry.acked = true;
    return `${entry.read}${entry.acked}` !== before;
  }

  /** The welcome lists everything still needing attention: what this page holds that
   *  it no longer lists was dealt with on another device while this one was away. */
  settleFromWelcome(listed) {
    const ids = new Set(listed.map((a) => a && a.id));
    for (const entry of this.needingAttention()) {
      if (ids.has(entry.announcement.id)) continue;
      entry.read = true;
      if (entry.announcement.require_ack) entry.acked = true;
    }
    for (const a of listed) this.receive(a);
  }

  /** Needs attention: unacknowledged require_ack ones, then unread ones. */
  needingAttention() {
    return [...this.items.values()]
      .filter((e) => (e.announcement.require_ack ? !e.acked : !e.read))
      .sort(compareAttention);
  }

  all() {
    return [...this.items.values()].sort((a, b) => (b.announcement.ts || 0) - (a.announcement.ts || 0));
  }

  get unreadCount() {
    return this.needingAttention().length;
  }
}

const PRIORITY_RANK = { urgent: 0, important: 1, normal: 2 };

function compareAttention(a, b) {
  const pa = PRIORITY_RANK[a.announcement.priority] ?? 2;
  const pb = PRIORITY_RANK[b.announcement.priority] ?? 2;
  if (pa !== pb) return pa - pb;
  return (b.announcement.ts || 0) - (a.announcement.ts || 0);
}

/** The announcements whose reach this user follows, as the hub lists them
 *  (`announcements`: a leader's own; an admin's, everyone's), newest first,
 *  with their figures and, where asked for, who has not read or acknowledged. */
export class ReachList {
  constructor() {
    this.items = new Map(); // id -> {announcement, stats, reminded, receipts}
    this.order = []; // ids, newest first, as the hub listed them
    this.hasMore = false;
    this.loaded = false;
    this.loading = false;
    this.error = null;
  }

  /** A page from the hub; `replace` starts over (the first page). */
  addPage(announcements, hasMore, { replace = false } = {}) {
    if (replace) this.order = [];
    for (const a of announcements) {
      if (!a || !a.id) continue;
      const { stats, ...announcement } = a;
      const entry = this.items.get(a.id) || { stats: null, reminded: null, receipts: {} };
      entry.announcement = announcement;
      if (stats) entry.stats = { ...entry.stats, ...stats };
      this.items.set(a.id, entry);
      if (!this.order.includes(a.id)) this.order.push(a.id);
    }
    for (const id of [...this.items.keys()]) if (!this.order.includes(id)) this.items.delete(id);
    this.hasMore = Boolean(hasMore);
    this.loaded = true;
  }

  /** One just sent by this user: first in the list. */
  addSent(announcement) {
    if (!announcement || !announcement.id) return;
    const entry = this.items.get(announcement.id) || { stats: null, reminded: null, receipts: {} };
    entry.announcement = announcement;
    this.items.set(announcement.id, entry);
    this.order = [announcement.id, ...this.order.filter((id) => id !== announcement.id)];
  }

  updateStats(id, stats) {
    const entry = this.items.get(id);
    if (!entry) return false;
    entry.stats = { ...entry.stats, ...stats };
    return true;
  }

  get lastId() {
    return this.order.length ? this.order[this.order.length - 1] : null;
  }

  list() {
    return this.order.map((id) => this.items.get(id)).filter(Boolean);
  }
}

function safeStorage(name) {
  try {
    return window[name];
  } catch {
    return null;
  }
}
