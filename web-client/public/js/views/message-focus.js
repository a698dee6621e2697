// One message at a time is "current": it and its buttons are in the tab order, every
// other message and its buttons are not (a roving tabindex). Fifty messages were a
// hundred tab stops; now the list is one stop, the current message another, and its
// actions follow it. Arrow keys (and Home, End, Page Up, Page Down) move the current
// message; a click or a tap makes the touched message current.
//
// On a touch screen a tap on a message (not on a link or a button) shows its actions,
// and a long press does too (the browser's contextmenu event); hover and keyboard focus
// show them as before. There is no row of buttons under every message.

const MESSAGE = 'article.msg[data-seq]';
const INTERACTIVE = 'a, button, input, textarea, select, summary';

export class MessageFocus {
  constructor(listEl) {
    this.listEl = listEl;
    this.current = null;
    this.opened = null; // the message whose actions a tap opened

    listEl.addEventListener('keydown', (ev) => this.onKey(ev));
    listEl.addEventListener('focusin', (ev) => {
      const msg = ev.target.closest?.(MESSAGE);
      if (msg) this.setCurrent(msg);
    });
    listEl.addEventListener('click', (ev) => {
      const msg = ev.target.closest?.(MESSAGE);
      if (!msg) return;
      this.setCurrent(msg);
      if (!ev.target.closest(INTERACTIVE)) this.toggleActions(msg);
    });
    listEl.addEventListener('contextmenu', (ev) => {
      const msg = ev.target.closest?.(MESSAGE);
      if (!msg || ev.target.closest('a')) return; // a link's own menu (copy, open) stays
      ev.preventDefault();
      this.setCurrent(msg);
      this.toggleActions(msg, true);
    });
    document.addEventListener('pointerdown', (ev) => {
      if (this.opened && !this.opened.contains(ev.target)) this.closeActions();
    });
  }

  messages() {
    return [...this.listEl.querySelectorAll(MESSAGE)];
  }

  /** After a render: keep the current message if it is still there, else take the
   *  newest; a new message's buttons start out of the tab order. */
  refresh() {
    for (const msg of this.messages()) if (msg !== this.current) setTabbable(msg, false);
    if (!this.current || !this.current.isConnected) {
      const all = this.messages();
      this.current = null;
      if (all.length) this.setCurrent(all[all.length - 1]);
    } else {
      setTabbable(this.current, true);
    }
    if (this.opened && !this.opened.isConnected) this.opened = null;
  }

  setCurrent(msg) {
    if (this.current === msg) return;
    if (this.current?.isConnected) setTabbable(this.current, false);
    this.current = msg;
    setTabbable(msg, true);
  }

  /** Focus the message `seq` (e.g. after loading earlier messages). */
  focusSeq(seq) {
    const msg = this.listEl.querySelector(`article.msg[data-seq="${CSS.escape(String(seq))}"]`);
    if (!msg) return false;
    this.setCurrent(msg);
    msg.focus();
    return true;
  }

  onKey(ev) {
    const keys = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, Home: -Infinity, End: Infinity };
    if (!(ev.key in keys) || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    // Inside a message's own controls the arrows are theirs (the reaction picker).
    if (ev.target !== this.listEl && !ev.target.matches(MESSAGE)) return;
    const all = this.messages();
    if (!all.length) return;
    ev.preventDefault();
    const at = ev.target === this.listEl ? all.indexOf(this.current) : all.indexOf(ev.target);
    const step = keys[ev.key];
    const from = at < 0 ? all.length - 1 : at;
    const to = Number.isFinite(step) ? Math.max(0, Math.min(all.length - 1, from + step)) : step < 0 ? 0 : all.length - 1;
    this.setCurrent(all[to]);
    all[to].focus();
    all[to].scrollIntoView({ block: 'nearest' });
  }

  toggleActions(msg, open = msg !== this.opened) {
    this.closeActions();
    if (!open) return;
    this.opened = msg;
    msg.classList.add('msg--actions-open');
  }

  closeActions() {
    this.opened?.classList.remove('msg--actions-open');
    this.opened = null;
  }
}

function setTabbable(msg, on) {
  msg.tabIndex = on ? 0 : -1;
  for (const el of msg.querySelectorAll('.msg-actions button, .msg-reactions button')) el.tabIndex = on ? 0 : -1;
}
