// Drafts that outlive a closed form and a reload: the message box's text per channel and
// the announcement being written. Kept in sessionStorage (this tab, this sign-in), so
// nothing typed reaches another person's session on a shared computer after sign-out.

const KEY = 'dugnad.drafts';

export class Drafts {
  constructor(storage = sessionStorageOrNull()) {
    this.storage = storage;
    this.data = { user: null, messages: {}, announcement: null };
    try {
      const saved = JSON.parse(storage?.getItem(KEY) || 'null');
      if (saved && typeof saved === 'object' && saved.messages && typeof saved.messages === 'object') {
        this.data = { user: saved.user ?? null, messages: saved.messages, announcement: saved.announcement ?? null };
      }
    } catch {
      /* unreadable: start empty */
    }
  }

  /** Drafts belong to one user: another sign-in in this tab starts empty. */
  forUser(id) {
    if (this.data.user !== id) this.data = { user: id, messages: {}, announcement: null };
    this.save();
  }

  message(channel) {
    return typeof this.data.messages[channel] === 'string' ? this.data.messages[channel] : '';
  }

  setMessage(channel, text) {
    if (text) this.data.messages[channel] = text;
    else delete this.data.messages[channel];
    this.save();
  }

  get announcement() {
    return this.data.announcement;
  }

  set announcement(fields) {
    const empty = !fields || (!fields.title && !fields.body);
    this.data.announcement = empty ? null : fields;
    this.save();
  }

  clear() {
    this.data = { user: null, messages: {}, announcement: null };
    this.save();
  }

  save() {
    try {
      this.storage?.setItem(KEY, JSON.stringify(this.data));
    } catch {
      /* storage full or disabled: drafts last as long as the page */
    }
  }
}

function sessionStorageOrNull() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}
