// Mentions in the client (protocol.md, "Mentions"): where a body's `@id` words are, for
// drawing them highlighted; the `@` word being typed and the members it may complete
// to; and the unread-mention count of a channel. No DOM here: tested under Node.

// What the hub reads as a mention: `@` at the start or after a character that cannot be
// part of an id, then ASCII letters, digits and `. _ - + @`; a trailing `.` or `-` is
// punctuation.
const ID_CHAR = /[A-Za-z0-9._+@-]/;
const MENTION = /@([A-Za-z0-9._+@-]+)/g;

/**
 * The body as [{text, mention}] pieces covering it in order: `mention` is the id of a
 * member the message mentions (listed in its `mentions`, or `channel` when it has
 * `mentions_channel`), null for plain text. An `@word` the hub did not count (nobody
 * by that id, not a member) stays text.
 */
export function mentionPieces(body, mentions, mentionsChannel = false) {
  const text = typeof body === 'string' ? body : '';
  const ids = new Set(Array.isArray(mentions) ? mentions : []);
  if (mentionsChannel) ids.add('channel');
  const pieces = [];
  let at = 0;
  if (ids.size > 0) {
    for (const match of text.matchAll(MENTION)) {
      const start = match.index;
      if (start > 0 && ID_CHAR.test(text[start - 1])) continue;
      const id = match[1].replace(/[.-]+$/, '');
      if (!ids.has(id)) continue;
      if (start > at) pieces.push({ text: text.slice(at, start), mention: null });
      pieces.push({ text: `@${id}`, mention: id });
      at = start + 1 + id.length;
    }
  }
  if (at < text.length || pieces.length === 0) pieces.push({ text: text.slice(at), mention: null });
  return pieces;
}

/** The `@word` the caret is at the end of in `text`: {start (of the `@`), query}, or
 *  null when the caret is not in one. */
export function completionAt(text, caret) {
  let start = caret;
  while (start > 0 && ID_CHAR.test(text[start - 1]) && text[start - 1] !== '@') start -= 1;
  if (start === 0 || text[start - 1] !== '@') return null;
  const at = start - 1;
  if (at > 0 && ID_CHAR.test(text[at - 1])) return null; // "ola@firma": an address
  return { start: at, query: text.slice(start, caret) };
}

/** The members a typed query may complete to, at most `max`: those whose id or any
 *  word of whose name begins with it (case folded), ids first, then by name. */
export function matchMembers(members, query, { exclude = null, max = 8 } = {}) {
  const q = query.toLocaleLowerCase();
  const found = [];
  for (const m of members) {
    if (!m || typeof m.id !== 'string' || m.id === exclude || !/^[A-Za-z0-9._+@-]+$/.test(m.id)) continue;
    const id = m.id.toLocaleLowerCase();
    const words = String(m.name || '').toLocaleLowerCase().split(/\s+/);
    const rank = id.startsWith(q) ? 0 : words.some((w) => w.startsWith(q)) ? 1 : -1;
    if (rank >= 0) found.push({ member: m, rank });
  }
  found.sort((a, b) => a.rank - b.rank || String(a.member.name || a.member.id).localeCompare(String(b.member.name || b.member.id)));
  return found.slice(0, max).map((f) => f.member);
}

/** `text` with the `@word` at `completion` replaced by `@id` (and a space, unless a
 *  space or punctuation follows) and where the caret goes. */
export function complete(text, completion, id) {
  const rest = text.slice(completion.start + 1 + completion.query.length);
  const inserted = /^[\s,.;:!?)]/.test(rest) ? `@${id}` : `@${id} `;
  return { text: text.slice(0, completion.start) + inserted + rest, caret: completion.start + inserted.length };
}

/**
 * A channel's unread mentions. The welcome gives a stored count (`unread_mentions`)
 * without saying which messages: they all lie after the read position and at or before
 * the channel's newest message then (`until`), so the count holds until the reader is
 * past `until`. Mentions heard live (`mention` events) are counted by seq, each once.
 */
export class MentionCount {
  constructor() {
    this.base = 0;
    this.until = 0;
    this.seqs = new Set();
  }

  fromHub(count, lastSeq) {
    this.base = Number.isInteger(count) && count > 0 ? count : 0;
    this.until = lastSeq;
    for (const seq of this.seqs) if (seq <= lastSeq) this.seqs.delete(seq);
  }

  /** A `mention` event; false when that message was already counted. */
  add(seq) {
    if (typeof seq !== 'number' || seq <= this.until || this.seqs.has(seq)) return false;
    this.seqs.add(seq);
    return true;
  }

  /** A deleted message's mention goes with it (when it was counted by seq). */
  remove(seq) {
    return this.seqs.delete(seq);
  }

  unread(readSeq) {
    let n = readSeq < this.until ? this.base : 0;
    for (const seq of this.seqs) if (seq > readSeq) n += 1;
    return n;
  }
}
