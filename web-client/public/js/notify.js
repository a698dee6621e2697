// Browser notifications for what calls this person (a mention, an urgent announcement)
// while the tab is hidden. Permission is asked only when the person presses the button
// that offers it (never at load), and nothing is shown while the tab is in view: the
// page itself says it then.

/** Whether to show a notification now. */
export function shouldNotify({ supported, permission, visibility }) {
  return Boolean(supported) && permission === 'granted' && visibility === 'hidden';
}

export class Notifier {
  /** `win`: the window (its Notification and document), passed in for the tests. */
  constructor(win = globalThis) {
    this.win = win;
  }

  get supported() {
    return typeof this.win.Notification === 'function';
  }

  get permission() {
    return this.supported ? this.win.Notification.permission : 'unsupported';
  }

  /** The button that asks is offered while the browser has not been asked yet. */
  get canAsk() {
    return this.permission === 'default';
  }

  /** On the person's press only: browsers refuse (or penalise) an ask without one. */
  async ask() {
    if (!this.canAsk) return this.permission;
    try {
      return await this.win.Notification.requestPermission();
    } catch {
      return this.permission;
    }
  }

  /** Shows `title`/`body` if the tab is hidden and allowed; `tag` replaces an earlier
   *  one of the same tag; a click brings the tab forward and calls `onClick`. */
  notify({ title, body, tag, onClick }) {
    if (!shouldNotify({ supported: this.supported, permission: this.permission, visibility: this.win.document?.visibilityState })) return null;
    const note = new this.win.Notification(title, { body, tag });
    note.onclick = () => {
      this.win.focus?.();
      onClick?.();
      note.close?.();
    };
    return note;
  }
}
