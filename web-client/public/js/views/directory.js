// "Browse channels": the hub's directory (the `channels` command, protocol.md "Default
// channels and the directory"), searched by name or title as the person types, a page
// at a time, with each channel's description, member count and a Join or Open button.

import { h, setChildren } from '../dom.js';
import { channelLabel, count } from '../format.js';
import { t } from '../i18n.js';
import { timeEl } from './messages.js';

const PAGE = 50;
// Typing waits this long for the next key before asking the hub (one request per word,
// not per letter).
const QUERY_DELAY_MS = 250;

export class DirectoryView {
  /**
   * @param {object} els      form, input, status, error, list, empty, more
   * @param {object} actions  request(fields) -> reply, onJoin(name, button), onOpen(name)
   */
  constructor(els, actions) {
    Object.assign(this, els);
    this.actions = actions;
    this.entries = [];
    this.hasMore = false;
    this.loading = false;
    this.generation = 0; // a newer query makes an older reply moot
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.load();
    });
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load(), QUERY_DELAY_MS);
    });
    this.more.addEventListener('click', () => this.load({ more: true }));
  }

  /** The first page for what the box holds, or (`more`) the page after the last. */
  async load({ more = false } = {}) {
    clearTimeout(this.timer);
    const generation = ++this.generation;
    const query = this.input.value.trim();
    const fields = { limit: PAGE };
    if (query) fields.query = query;
    if (more && this.entries.length) fields.after = this.entries[this.entries.length - 1].name;
    const firstNew = more ? this.entries.length : 0;
    this.loading = true;
    this.error.textContent = '';
    this.list.setAttribute('aria-busy', 'true');
    try {
      const reply = await this.actions.request(fields);
      if (generation !== this.generation) return;
      const page = Array.isArray(reply.channels) ? reply.channels.filter((c) => c && typeof c.name === 'string') : [];
      this.entries = more ? [...this.entries, ...page] : page;
      this.hasMore = Boolean(reply.has_more);
      this.status.textContent = query ? t('dir.found', { n: this.entries.length, query }) : t('dir.listed', { n: this.entries.length });
    } catch (err) {
      if (generation !== this.generation) return;
      this.error.textContent = t('dir.failed', { error: this.actions.describe(err) });
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.list.setAttribute('aria-busy', 'false');
        this.render();
      }
    }
    // After "Show more channels", the keyboard goes on at the first channel it brought.
    if (more) (this.list.children[firstNew]?.querySelector('button') || this.input).focus();
  }

  /** A channel joined (here or elsewhere): its button becomes Open. */
  markJoined(name) {
    const entry = this.entries.find((e) => e.name === name);
    if (!entry || entry.joined) return;
    entry.joined = true;
    entry.member_count = (entry.member_count || 0) + 1;
    this.render();
  }

  render() {
    setChildren(this.list, this.entries.map((entry) => this.entryNode(entry)));
    const query = this.input.value.trim();
    this.empty.hidden = this.loading || this.entries.length > 0 || Boolean(this.error.textContent);
    this.empty.textContent = query ? t('dir.noneFor', { query }) : t('dir.none');
    this.more.hidden = !this.hasMore;
  }

  entryNode(entry) {
    const kind = ['public', 'private', 'announce', 'direct'].includes(entry.kind) ? entry.kind : 'other';
    const titleId = `dir-${entry.name}`;
    const title = typeof entry.title === 'string' && entry.title.toLowerCase() !== entry.name ? entry.title : null;
    const meta = [t(`dir.kind.${kind}`), count('members', entry.member_count || 0)];
    const button = entry.joined
      ? h('button', { type: 'button', class: 'btn btn--secondary btn--sm', 'aria-describedby': titleId, onclick: () => this.actions.onOpen(entry.name) }, t('dir.open'))
      : h(
          'button',
          { type: 'button', class: 'btn btn--primary btn--sm', 'aria-describedby': titleId, onclick: (ev) => this.actions.onJoin(entry.name, ev.currentTarget) },
          t('dir.join'),
        );
    return h(
      'li',
      { class: `dir-entry${entry.joined ? ' dir-entry--joined' : ''}`, dataset: { channel: entry.name } },
      h(
        'div',
        { class: 'dir-text' },
        kind === 'direct'
          ? h('h2', { class: 'dir-name', id: titleId }, channelLabel(entry))
          : h('h2', { class: 'dir-name', id: titleId }, `#${entry.name}`, title ? h('span', { class: 'dir-title' }, ` · ${title}`) : null),
        entry.description ? h('p', { class: 'dir-description' }, entry.description) : null,
        h(
          'p',
          { class: 'dir-meta' },
          meta.join(' · '),
          entry.joined ? ` · ${t('dir.member')}` : '',
          typeof entry.last_activity === 'number' ? [` · ${t('dir.active')} `, timeEl(entry.last_activity, 'dir-time')] : '',
        ),
      ),
      button,
    );
  }
}
