// The message box: Enter sends, Shift+Enter adds a line, a reply context,
// typing notifications, and a visible reason when the user may not post.

import { icon, Icons } from '../dom.js';
import { displayName } from '../format.js';
import { t } from '../i18n.js';

export const MAX_BODY_BYTES = 16 * 1024;
const TYPING_EVERY_MS = 3000;

export class ComposerView {
  /**
   * @param {object} els     form, input, send, disabledNote, error, replyBox, replyText, replyCancel, label
   * @param {object} actions onSend(body, replyTo) -> bool, onTyping()
   * @param {Drafts} drafts   where the text of each channel's box is kept (drafts.js)
   */
  constructor(els, actions, drafts) {
    Object.assign(this, els);
    this.actions = actions;
    this.replyTo = null;
    this.lastTypingAt = 0;
    this.drafts = drafts;
    this.channelName = null;
    this.replyCancel.append(icon(Icons.close, { size: 14 }));

    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        this.submit();
      } else if (ev.key === 'Escape' && this.replyTo) {
        ev.preventDefault();
        this.setReply(null);
      }
    });
    this.input.addEventListener('input', () => {
      this.autosize();
      this.error.textContent = '';
      if (this.channelName) this.drafts.setMessage(this.channelName, this.input.value);
      const now = Date.now();
      if (this.input.value.trim() && now - this.lastTypingAt > TYPING_EVERY_MS) {
        this.lastTypingAt = now;
        this.actions.onTyping();
      }
    });
    this.replyCancel.addEventListener('click', () => {
      this.setReply(null);
      this.input.focus();
    });
  }

  /** Switch channel: keep a draft per channel. */
  open(channel) {
    if (this.channelName) this.drafts.setMessage(this.channelName, this.input.value);
    this.channelName = channel.name;
    this.input.value = this.drafts.message(channel.name);
    this.error.textContent = '';
    this.setReply(null);
    this.autosize();
  }

  /** `reason` null enables the composer; a string disables it and says why. `label`
   *  names the channel (`#name`, or a direct channel's people). */
  setAllowed(reason, label) {
    const disabled = Boolean(reason);
    this.input.disabled = disabled;
    this.send.disabled = disabled;
    this.disabledNote.hidden = !disabled;
    this.disabledNote.textContent = reason || '';
    this.form.classList.toggle('is-disabled', disabled);
    this.input.placeholder = disabled ? '' : t('composer.label', { label });
    this.label.textContent = t('composer.label', { label });
  }

  setReply(message) {
    this.replyTo = message;
    this.replyBox.hidden = !message;
    this.replyText.textContent = message ? t('composer.replying', { name: displayName(message.from), text: String(message.body).replace(/\s+/g, ' ').slice(0, 120) }) : '';
    if (message) this.input.focus();
  }

  submit() {
    if (this.input.disabled) return;
    const body = this.input.value.replace(/\s+$/, '');
    if (!body.trim()) return;
    if (new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
      this.error.textContent = t('composer.tooLong');
      return;
    }
    const ok = this.actions.onSend(body, this.replyTo);
    if (ok === false) return;
    this.input.value = '';
    this.drafts.setMessage(this.channelName, '');
    this.setReply(null);
    this.autosize();
    this.lastTypingAt = 0;
    this.input.focus();
  }

  autosize() {
    const el = this.input;
    el.style.setProperty('height', 'auto');
    el.style.setProperty('height', `${Math.min(el.scrollHeight + 2, 200)}px`);
  }
}
