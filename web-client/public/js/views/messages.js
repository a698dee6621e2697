// The message stream of one channel: day dividers, messages grouped by
// author, replies quoted, reactions, and the pending publishes of the
// outbox. Message nodes are cached and reconciled, so a new message does not
// rebuild the list (focus, selection and scroll position survive).

import { h, icon, Icons, reconcile, setChildren } from '../dom.js';
import { avatarHue, clockTime, dayKey, dayLabel, displayName, fullTime, initials, relativeTime } from '../format.js';
import { t } from '../i18n.js';
import { mentionPieces } from '../mentions.js';
import { MessageFocus } from './message-focus.js';

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const QUICK_REACTIONS = ['👍', '❤️', '😄', '🎉', '👀', '🙏', '✅', '😮'];
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/g;
// Earlier messages load by themselves once the reader scrolls this close to the top
// (a page of 50 is about 2,500 px: the next page is there before the top is reached).
const LOAD_OLDER_WITHIN_PX = 400;

export class MessageListView {
  /**
   * @param {object} els      listEl, scrollEl, loadOlderBtn, historyStartEl, newBelowEl, jumpBtn
   * @param {object} actions  onReply(message), onReact(message, emoji, remove), onSeen(seq),
   *                          onLoadOlder(), onRetry(item), onDiscard(item),
   *                          onEdit(message, body) (throws the refusal in words),
   *                          onDelete(message), canDelete(message)
   */
  constructor(els, actions) {
    Object.assign(this, els);
    this.actions = actions;
    this.me = null;
    this.channelName = null;
    this.nodes = new Map(); // key -> element
    this.renderedVersion = -1;
    this.unreadMarkerSeq = null; // first unread seq when the channel was opened
    this.visible = new Set();
    this.picker = null;
    this.canLoadOlder = false;
    this.focus = new MessageFocus(this.listEl);
    this.editing = null; // the id of the message whose edit box is open

    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), {
      root: this.scrollEl,
      threshold: 0.6,
    });
    this.scrollEl.addEventListener('scroll', () => {
      if (this.isNearBottom()) this.newBelowEl.hidden = true;
      if (this.canLoadOlder && this.scrollEl.scrollTop < LOAD_OLDER_WITHIN_PX) {
        this.canLoadOlder = false;
        this.actions.onLoadOlder({ byScroll: true });
      }
    });
    this.jumpBtn.addEventListener('click', () => {
      this.scrollToBottom();
      this.listEl.focus({ preventScroll: true });
    });
    // aria-disabled, not disabled, while a page loads: a disabled button drops its focus
    // to <body>.
    this.loadOlderBtn.addEventListener('click', () => {
      if (this.loadOlderBtn.getAttribute('aria-disabled') !== 'true') this.actions.onLoadOlder({ byScroll: false });
    });
    document.addEventListener('visibilitychange', () => this.reportSeen());
  }

  setMe(user) {
    this.me = user;
  }

  /** Switch to another channel: drop cached nodes and remember where the
   *  unread messages start so a "New" divider can mark them. */
  open(channel) {
    this.closePicker(false);
    this.channelName = channel.name;
    for (const node of this.nodes.values()) this.observer.unobserve(node);
    this.nodes.clear();
    this.visible.clear();
    this.listEl.replaceChildren();
    this.focus.current = null;
    this.renderedVersion = -1;
    this.unreadMarkerSeq = channel.unread > 0 ? channel.readSeq + 1 : null;
    this.scrollToMarker = this.unreadMarkerSeq !== null;
    this.stickToBottom = true;
    this.newBelowEl.hidden = true;
  }

  /** Draw every message again (the language changed): cached nodes hold the old words. */
  redraw() {
    this.closePicker(false);
    for (const node of this.nodes.values()) this.observer.unobserve(node);
    this.nodes.clear();
    this.visible.clear();
    this.listEl.replaceChildren();
    this.renderedVersion = -1;
  }

  isNearBottom() {
    const el = this.scrollEl;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  }

  scrollToBottom() {
    this.scrollEl.scrollTop = this.scrollEl.scrollHeight;
    this.newBelowEl.hidden = true;
  }

  /**
   * @param {ChannelState} channel
   * @param {Array} pending outbox items of this channel
   * @param {object} hints  {mine: bool (a message of mine arrived), older: bool (older page prepended),
   *                        canPost: bool, connected: bool (false: the connection is down)}
   */
  render(channel, pending, hints = {}) {
    const wasAtBottom = this.stickToBottom || this.isNearBottom();
    const hadCount = this.listEl.childElementCount;
    // Earlier messages go in above: the message that was first stays where it is on the
    // screen. (Not by the change in height: that message itself may shrink, when it
    // joins the group of the one now before it.)
    const anchor = hints.older ? this.listEl.querySelector('article.msg[data-seq]') : null;
    const anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;

    const rows = [];
    const used = new Set();
    let prev = null;
    let prevDay = null;
    for (const message of channel.order) {
      const day = dayKey(message.ts);
      if (day !== prevDay) {
        rows.push(this.node(`day:${day}`, () => dayDivider(message.ts), used));
        prevDay = day;
        prev = null;
      }
      if (this.unreadMarkerSeq !== null && message.seq === this.unreadMarkerSeq && !this.isMine(message)) {
        rows.push(this.node('unread', () => h('div', { class: 'unread-divider', role: 'separator', 'aria-label': t('messages.newLabel') }, h('span', null, t('messages.new'))), used));
        prev = null;
      }
      const continued = Boolean(
        prev && prev.from && message.from && prev.from.id === message.from.id && message.ts - prev.ts < GROUP_WINDOW_MS,
      );
      // Keyed by id: after a history reset a seq may come back as another message.
      const node = this.node(`m:${message.id || message.seq}`, () => this.messageNode(message), used);
      node.classList.toggle('msg--continued', continued);
      this.updateBody(node, message);
      this.updateQuote(node, message, channel);
      this.updateReactions(node, message, channel);
      rows.push(node);
      prev = message;
    }
    for (const item of pending) {
      const node = this.node(`p:${item.client_id}`, () => this.pendingNode(item), used);
      this.updatePending(node, item, hints.connected !== false);
      rows.push(node);
    }

    for (const [key, node] of this.nodes) {
      if (!used.has(key)) {
        this.observer.unobserve(node);
        this.nodes.delete(key);
        if (node.dataset.seq) this.visible.delete(Number(node.dataset.seq));
      }
    }
    reconcile(this.listEl, rows);
    this.focus.refresh();

    this.loadOlderBtn.hidden = !channel.hasOlder || channel.order.length === 0;
    this.loadOlderBtn.setAttribute('aria-disabled', String(channel.loadingOlder));
    this.canLoadOlder = !this.loadOlderBtn.hidden && !channel.loadingOlder;
    this.loadOlderBtn.textContent = channel.loadingOlder ? t('messages.loading') : t('messages.loadOlder');
    this.historyStartEl.hidden = channel.hasOlder || !channel.historyLoaded;
    this.historyStartEl.textContent = channel.order.length
      ? t('messages.start', { name: channel.name })
      : `${t('messages.none', { name: channel.name })}${hints.canPost === false ? '' : ` ${t('messages.sayHello')}`}`;

    const marker = this.nodes.get('unread');
    if (this.scrollToMarker && marker) {
      // Opening a channel with unread messages: start at the first unread one.
      this.scrollToMarker = false;
      marker.scrollIntoView({ block: 'start' });
      if (this.isNearBottom()) this.scrollToBottom();
    } else if (hints.older) {
      if (anchor?.isConnected) this.scrollEl.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
    } else if (wasAtBottom || hints.mine) {
      this.scrollToBottom();
    } else if (this.listEl.childElementCount > hadCount) {
      this.newBelowEl.hidden = false;
    }
    if (channel.historyLoaded && !marker) this.scrollToMarker = false;
    this.stickToBottom = false;
    this.renderedVersion = channel.version;
    this.reportSeen();
  }

  node(key, make, used) {
    used.add(key);
    let node = this.nodes.get(key);
    if (!node) {
      node = make();
      this.nodes.set(key, node);
      if (node.dataset.seq) this.observer.observe(node);
    }
    return node;
  }

  isMine(message) {
    return Boolean(this.me && message.from && message.from.id === this.me.id);
  }

  messageNode(message) {
    const author = displayName(message.from);
    const authorId = message.from ? message.from.id : '';
    const mine = this.isMine(message);
    const bodyId = `msg-body-${message.seq}`;
    const node = h(
      'article',
      {
        class: `msg${mine ? ' msg--mine' : ''}`,
        dataset: { seq: String(message.seq), id: message.id || '' },
        'aria-labelledby': `msg-author-${message.seq}`,
        'aria-describedby': bodyId,
        tabindex: '-1',
      },
      h('div', { class: 'msg-gutter', 'aria-hidden': 'true' }, avatar(authorId, author), h('span', { class: 'msg-gutter-time' }, clockTime(message.ts))),
      h(
        'div',
        { class: 'msg-main' },
        h(
          'header',
          { class: 'msg-header' },
          h('span', { class: 'msg-author', id: `msg-author-${message.seq}` }, author),
          timeEl(message.ts),
        ),
        h('div', { class: 'msg-quote-slot' }),
        h('div', { class: 'msg-body', id: bodyId }),
        h('div', { class: 'msg-reactions' }),
      ),
      h(
        'div',
        { class: 'msg-actions', role: 'group', 'aria-label': t('messages.actionsFor', { author }) },
        h(
          'button',
          { type: 'button', class: 'icon-btn icon-btn--sm', 'aria-label': t('messages.replyTo', { author }), title: t('messages.reply'), onclick: () => this.actions.onReply(message) },
          icon(Icons.reply, { size: 16 }),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'icon-btn icon-btn--sm',
            'aria-label': t('messages.reactTo', { author }),
            'aria-haspopup': 'menu',
            title: t('messages.addReaction'),
            onclick: (ev) => this.openPicker(ev.currentTarget, message),
          },
          icon(Icons.smile, { size: 16 }),
        ),
        mine
          ? h(
              'button',
              { type: 'button', class: 'icon-btn icon-btn--sm', dataset: { action: 'edit' }, 'aria-label': t('messages.editYours'), title: t('messages.edit'), onclick: () => this.openEditor(node, message) },
              icon(Icons.pencil, { size: 16 }),
            )
          : null,
        this.actions.canDelete(message)
          ? h(
              'button',
              {
                type: 'button',
                class: 'icon-btn icon-btn--sm',
                dataset: { action: 'delete' },
                'aria-label': t(mine ? 'messages.deleteYours' : 'messages.deleteOf', { author }),
                title: t('messages.delete'),
                onclick: () => this.actions.onDelete(message),
              },
              icon(Icons.trash, { size: 16 }),
            )
          : null,
      ),
    );
    return node;
  }

  /** The body as it is now: the text with "(edited)", or the placeholder of a deleted
   *  message (whose buttons go: nothing is left to reply to or change). */
  updateBody(node, message) {
    const body = node.querySelector('.msg-body');
    if (this.editing === message.id && body.querySelector('form')) return;
    const mentions = Array.isArray(message.mentions) ? message.mentions : [];
    const state = message.deleted ? 'deleted' : `${message.edited_at || 0}:${mentions.join(' ')}:${message.mentions_channel ? 1 : 0}:${message.body}`;
    if (body.dataset.state === state) return;
    body.dataset.state = state;
    node.classList.toggle('msg--deleted', Boolean(message.deleted));
    for (const button of node.querySelectorAll('.msg-actions button')) button.hidden = Boolean(message.deleted);
    if (message.deleted) {
      setChildren(body, h('span', { class: 'msg-deleted' }, t('messages.deletedPlaceholder')));
      return;
    }
    const me = this.me ? this.me.id : null;
    setChildren(
      body,
      mentionPieces(message.body, mentions, message.mentions_channel).map((piece) =>
        piece.mention
          ? h('span', { class: `mention${piece.mention === me || piece.mention === 'channel' ? ' mention--me' : ''}` }, piece.text)
          : linkify(piece.text),
      ),
      message.edited_at ? [' ', h('span', { class: 'msg-edited', title: fullTime(message.edited_at) }, t('messages.edited'))] : null,
    );
  }

  /** The edit box in place of the body: Enter saves, Shift+Enter is a new line, Escape
   *  (or Cancel) leaves the message as it was; focus returns to the message. */
  openEditor(node, message) {
    const body = node.querySelector('.msg-body');
    const inputId = `edit-${message.seq}`;
    const errorId = `edit-error-${message.seq}`;
    const input = h('textarea', { id: inputId, class: 'msg-edit-input', rows: '2', maxlength: '16384', 'aria-describedby': errorId }, message.body || '');
    const error = h('p', { class: 'field-error', id: errorId, role: 'alert' });
    const close = () => {
      this.editing = null;
      body.dataset.state = '';
      this.updateBody(node, message);
      this.focus.focusSeq(message.seq);
    };
    const save = async () => {
      const text = input.value.trim();
      if (!text || text === message.body) return close();
      form.setAttribute('aria-busy', 'true');
      try {
        await this.actions.onEdit(message, text);
        close();
      } catch (err) {
        error.textContent = err.message;
        input.focus();
      } finally {
        form.setAttribute('aria-busy', 'false');
      }
    };
    const form = h(
      'form',
      { class: 'msg-edit', novalidate: true, onsubmit: (ev) => (ev.preventDefault(), save()) },
      h('label', { for: inputId, class: 'visually-hidden' }, t('messages.editLabel')),
      input,
      h(
        'div',
        { class: 'msg-edit-actions' },
        h('button', { type: 'submit', class: 'btn btn--primary btn--xs' }, t('messages.save')),
        h('button', { type: 'button', class: 'btn btn--ghost btn--xs', onclick: close }, t('messages.cancel')),
      ),
      error,
    );
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        close();
      } else if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        save();
      }
    });
    this.editing = message.id;
    setChildren(body, form);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  /** Bring message `seq` into view, focused and marked for a moment (a search result).
   *  Returns false when it is not in the list. */
  showMessage(seq) {
    const node = this.listEl.querySelector(`article.msg[data-seq="${CSS.escape(String(seq))}"]`);
    if (!node) return false;
    this.stickToBottom = false;
    this.scrollToMarker = false;
    node.scrollIntoView({ block: 'center' });
    this.focus.focusSeq(seq);
    node.classList.add('msg--found');
    setTimeout(() => node.classList.remove('msg--found'), 4000);
    return true;
  }

  updateQuote(node, message, channel) {
    if (!message.reply_to) return;
    const slot = node.querySelector('.msg-quote-slot');
    const target = channel.byId.get(message.reply_to);
    const state = target ? `seq:${target.seq}` : 'missing';
    if (slot.dataset.state === state) return;
    slot.dataset.state = state;
    if (target) {
      setChildren(
        slot,
        h(
          'blockquote',
          { class: 'msg-quote' },
          h('span', { class: 'visually-hidden' }, `${t('messages.inReplyTo')} `),
          h('span', { class: 'msg-quote-author' }, displayName(target.from)),
          h('span', { class: 'msg-quote-body' }, excerpt(target.body, 160)),
        ),
      );
    } else {
      setChildren(slot, h('blockquote', { class: 'msg-quote msg-quote--missing' }, t('messages.inReplyToEarlier')));
    }
  }

  updateReactions(node, message, channel) {
    const slot = node.querySelector('.msg-reactions');
    const map = channel.reactions.get(message.id);
    const me = this.me ? this.me.id : null;
    const entries = map ? [...map.entries()].filter(([, e]) => e.count > 0) : [];
    const signature = entries.map(([emoji, e]) => `${emoji}:${e.count}:${e.users.has(me) ? 1 : 0}`).join('|');
    if (slot.dataset.sig === signature) return;
    slot.dataset.sig = signature;
    const hadFocus = slot.contains(document.activeElement) ? document.activeElement.dataset.emoji : null;
    setChildren(
      slot,
      entries.map(([emoji, entry]) => {
        const mine = entry.users.has(me);
        const btn = h(
          'button',
          {
            type: 'button',
            class: `reaction${mine ? ' reaction--mine' : ''}`,
            'aria-pressed': mine ? 'true' : 'false',
            'aria-label': t(mine ? 'messages.reactionsMine' : 'messages.reactions', { emoji, n: entry.count }),
            dataset: { emoji },
            onclick: () => this.actions.onReact(message, emoji, mine),
          },
          h('span', { class: 'reaction-emoji', 'aria-hidden': 'true' }, emoji),
          h('span', { class: 'reaction-count', 'aria-hidden': 'true' }, String(entry.count)),
        );
        return btn;
      }),
    );
    if (hadFocus) slot.querySelector(`[data-emoji="${CSS.escape(hadFocus)}"]`)?.focus();
  }

  pendingNode(item) {
    const author = displayName(this.me);
    return h(
      'article',
      { class: 'msg msg--mine msg--pending', dataset: { clientId: item.client_id } },
      h('div', { class: 'msg-gutter', 'aria-hidden': 'true' }, avatar(this.me ? this.me.id : '', author)),
      h(
        'div',
        { class: 'msg-main' },
        h('header', { class: 'msg-header' }, h('span', { class: 'msg-author' }, author), h('span', { class: 'msg-status' })),
        h('div', { class: 'msg-body' }, linkify(item.body)),
        h('div', { class: 'msg-pending-actions' }),
      ),
    );
  }

  /**
   * `connected`: whether the connection is up now. A publish in flight when it dropped is
   * still `sending` until its promise fails a moment later; it shows "Waiting for
   * connection…" from the moment the header stops saying "Connected", as every other
   * part of the page does.
   */
  updatePending(node, item, connected) {
    const status = node.querySelector('.msg-status');
    const actions = node.querySelector('.msg-pending-actions');
    const failed = item.status === 'failed';
    node.classList.toggle('msg--failed', failed);
    const sending = item.status === 'sending' && connected;
    const text = failed ? t('messages.notSent', { error: item.error || t('messages.refused') }) : sending ? t('messages.sending') : t('messages.waiting');
    if (status.textContent !== text) status.textContent = text;
    const want = failed ? 'failed' : 'none';
    if (actions.dataset.state === want) return;
    actions.dataset.state = want;
    setChildren(
      actions,
      failed && [
        h('button', { type: 'button', class: 'btn btn--ghost btn--xs', onclick: () => this.actions.onRetry(item) }, 'Retry'),
        h('button', { type: 'button', class: 'btn btn--ghost btn--xs', onclick: () => this.actions.onDiscard(item) }, 'Discard'),
      ],
    );
  }

  // ---- read tracking ---------------------------------------------------

  onIntersect(entries) {
    for (const entry of entries) {
      const seq = Number(entry.target.dataset.seq);
      if (!seq) continue;
      if (entry.isIntersecting) this.visible.add(seq);
      else this.visible.delete(seq);
    }
    this.reportSeen();
  }

  reportSeen() {
    if (document.visibilityState !== 'visible' || this.visible.size === 0) return;
    if (this.listEl.closest('[hidden]')) return;
    this.actions.onSeen(Math.max(...this.visible));
  }

  // ---- reaction picker -------------------------------------------------

  openPicker(anchor, message) {
    this.closePicker(false);
    const items = QUICK_REACTIONS.map((emoji) =>
      h(
        'button',
        {
          type: 'button',
          role: 'menuitem',
          class: 'picker-item',
          'aria-label': t('messages.reactWith', { emoji }),
          tabindex: '-1',
          onclick: () => {
            this.closePicker(true);
            this.actions.onReact(message, emoji, false);
          },
        },
        emoji,
      ),
    );
    const menu = h('div', { class: 'picker', role: 'menu', 'aria-label': t('messages.addReactionMenu') }, items);
    menu.addEventListener('keydown', (ev) => {
      const index = items.indexOf(document.activeElement);
      if (ev.key === 'Escape') {
        ev.preventDefault();
        this.closePicker(true);
      } else if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') {
        ev.preventDefault();
        items[(index + 1) % items.length].focus();
      } else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        items[(index - 1 + items.length) % items.length].focus();
      } else if (ev.key === 'Tab') {
        this.closePicker(false);
      }
    });
    document.body.append(menu);
    const rect = anchor.getBoundingClientRect();
    const width = menu.offsetWidth;
    const left = Math.max(8, Math.min(window.innerWidth - width - 8, rect.right - width));
    const top = rect.top - menu.offsetHeight - 6 > 8 ? rect.top - menu.offsetHeight - 6 : rect.bottom + 6;
    menu.style.setProperty('left', `${left}px`);
    menu.style.setProperty('top', `${top}px`);
    anchor.setAttribute('aria-expanded', 'true');
    this.picker = { menu, anchor };
    this.pickerOutside = (ev) => {
      if (!menu.contains(ev.target) && ev.target !== anchor && !anchor.contains(ev.target)) this.closePicker(false);
    };
    document.addEventListener('pointerdown', this.pickerOutside, true);
    items[0].focus();
  }

  closePicker(returnFocus) {
    if (!this.picker) return;
    const { menu, anchor } = this.picker;
    this.picker = null;
    document.removeEventListener('pointerdown', this.pickerOutside, true);
    menu.remove();
    anchor.setAttribute('aria-expanded', 'false');
    if (returnFocus && anchor.isConnected) anchor.focus();
  }
}

// ---- pieces --------------------------------------------------------------

export function avatar(id, name, extraClass = '') {
  const el = h('span', { class: `avatar ${extraClass}`.trim(), 'aria-hidden': 'true' }, initials(name));
  el.style.setProperty('--avatar-hue', String(avatarHue(id)));
  return el;
}

export function timeEl(ts, extraClass = 'msg-time') {
  return h(
    'time',
    { class: extraClass, datetime: new Date(ts).toISOString(), title: fullTime(ts), dataset: { ts: String(ts) } },
    relativeTime(ts),
  );
}

/** Refresh every relative time on the page (called on a timer). */
export function refreshTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[data-ts]')) {
    const text = relativeTime(Number(el.dataset.ts), now);
    if (el.textContent !== text) el.textContent = text;
  }
}

function dayDivider(ts) {
  return h('h2', { class: 'day-divider' }, h('span', null, dayLabel(ts)));
}

function excerpt(text, max) {
  const flat = String(text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Text with http(s) links made clickable. Built from text nodes and <a>
 *  elements only: the body is never parsed as HTML. */
export function linkify(text) {
  const value = String(text ?? '');
  const parts = [];
  let last = 0;
  for (const match of value.matchAll(URL_RE)) {
    let url = match[0];
    const trailing = /[.,;:!?)\]]+$/.exec(url);
    if (trailing) url = url.slice(0, -trailing[0].length);
    const start = match.index;
    if (start > last) parts.push(value.slice(last, start));
    parts.push(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow' }, url));
    last = start + url.length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return parts;
}
