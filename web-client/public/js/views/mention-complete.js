// `@` completion in the message box: typing `@` and the start of an id or a name lists
// the channel's members who match (the `members` command, through `getMembers`); ↑ ↓
// choose, Enter or Tab insert `@id`, Escape closes the list. The box keeps the focus
// and points at the chosen option with aria-activedescendant; a polite status says how
// many match, so a screen reader hears the list open.

import { h, setChildren } from '../dom.js';
import { displayName } from '../format.js';
import { t } from '../i18n.js';
import { complete, completionAt, matchMembers } from '../mentions.js';

export class MentionCompleter {
  /**
   * @param {object} els      form, input (the message box), list (an empty <ul>), status
   * @param {object} actions  getMembers() -> Promise<[{id, name}]> of the open channel,
   *                          me() -> the signed-in user's id, changed() after an insert
   */
  constructor(els, actions) {
    Object.assign(this, els);
    this.actions = actions;
    this.options = [];
    this.index = 0;
    this.completion = null;
    this.list.setAttribute('role', 'listbox');
    this.list.setAttribute('aria-label', t('mention.listLabel'));
    this.list.hidden = true;
    this.input.addEventListener('input', () => this.update());
    this.input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
    // On the form and in the capture phase: before the box's own Enter (send) and Escape.
    this.form.addEventListener('keydown', (ev) => this.onKey(ev), true);
  }

  async update() {
    const completion = completionAt(this.input.value, this.input.selectionStart);
    if (!completion || this.input.selectionStart !== this.input.selectionEnd) return this.close();
    const asked = this.input.value;
    const members = await this.actions.getMembers().catch(() => []);
    if (this.input.value !== asked) return; // typed on meanwhile: that input updates
    const options = matchMembers(members, completion.query, { exclude: this.actions.me() });
    if (!options.length) return this.close();
    this.completion = completion;
    this.options = options;
    this.index = 0;
    this.render();
  }

  render() {
    setChildren(
      this.list,
      this.options.map((m, i) =>
        h(
          'li',
          {
            id: `mention-option-${i}`,
            role: 'option',
            class: `mention-option${i === this.index ? ' is-active' : ''}`,
            'aria-selected': String(i === this.index),
            // The box keeps the focus: a press must not take it away before the click.
            onmousedown: (ev) => ev.preventDefault(),
            onclick: () => this.choose(i),
          },
          h('span', { class: 'mention-option-name' }, displayName(m)),
          h('span', { class: 'mention-option-id' }, `@${m.id}`),
        ),
      ),
    );
    this.list.hidden = false;
    this.input.setAttribute('aria-controls', this.list.id);
    this.input.setAttribute('aria-activedescendant', `mention-option-${this.index}`);
    this.status.textContent = t('mention.matches', { n: this.options.length });
  }

  onKey(ev) {
    if (this.list.hidden || ev.target !== this.input) return;
    const n = this.options.length;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      this.index = (this.index + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
    } else if ((ev.key === 'Enter' && !ev.shiftKey) || ev.key === 'Tab') {
      this.choose(this.index);
    } else if (ev.key === 'Escape') {
      this.close();
    } else {
      return;
    }
    ev.preventDefault();
    ev.stopPropagation();
  }

  choose(i) {
    const member = this.options[i];
    if (!member || !this.completion) return;
    const { text, caret } = complete(this.input.value, this.completion, member.id);
    this.input.value = text;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.focus();
    this.actions.changed();
  }

  close() {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.options = [];
    this.completion = null;
    this.input.removeAttribute('aria-activedescendant');
    this.input.removeAttribute('aria-controls');
    this.status.textContent = '';
  }
}
