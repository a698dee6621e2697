// Search of what was said (the `search` command, protocol.md "search"): the box in the
// header and the list of results, best first. Each result shows its channel, author,
// time and the hub's excerpt with the found words in <mark> (built from text nodes:
// a message's HTML never runs), and jumps to the message in its channel.

import { h, setChildren } from '../dom.js';
import { displayName } from '../format.js';
import { excerptPieces } from '../excerpt.js';
import { t } from '../i18n.js';
import { timeEl } from './messages.js';

const LIMIT = 50;

export class SearchView {
  /**
   * @param {object} els      form, input, heading, status, error, list, empty
   * @param {object} actions  request(fields) -> reply, onShow(), onJump(hit), describe(err),
   *                          channelLabel(name) -> how the channel is named on screen
   */
  constructor(els, actions) {
    Object.assign(this, els);
    this.actions = actions;
    this.hits = [];
    this.generation = 0;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.search();
    });
  }

  async search() {
    const query = this.input.value.trim();
    if (!query) {
      this.input.focus();
      return;
    }
    const generation = ++this.generation;
    this.query = query;
    this.hits = [];
    this.hasMore = false;
    this.error.textContent = '';
    this.status.textContent = t('search.searching');
    this.list.setAttribute('aria-busy', 'true');
    this.render();
    this.actions.onShow();
    try {
      const reply = await this.actions.request({ query, limit: LIMIT });
      if (generation !== this.generation) return;
      this.hits = Array.isArray(reply.messages) ? reply.messages.filter((m) => m && typeof m.channel === 'string' && typeof m.seq === 'number') : [];
      this.hasMore = Boolean(reply.has_more);
      this.status.textContent = t(this.hasMore ? 'search.foundMore' : 'search.found', { n: this.hits.length, query });
    } catch (err) {
      if (generation !== this.generation) return;
      this.status.textContent = '';
      this.error.textContent = t('search.failed', { error: this.actions.describe(err) });
    } finally {
      if (generation === this.generation) {
        this.list.setAttribute('aria-busy', 'false');
        this.render();
      }
    }
  }

  render() {
    this.heading.textContent = this.query ? t('search.titleFor', { query: this.query }) : t('search.title');
    setChildren(this.list, this.hits.map((hit) => this.hitNode(hit)));
    this.empty.hidden = this.hits.length > 0 || this.list.getAttribute('aria-busy') === 'true' || Boolean(this.error.textContent);
    this.empty.textContent = t('search.none', { query: this.query || '' });
  }

  hitNode(hit) {
    const author = displayName(hit.from);
    const excerpt = h('span', { class: 'hit-excerpt' });
    for (const piece of excerptPieces(hit.excerpt ?? hit.body ?? '', hit.excerpt_marks)) {
      excerpt.append(piece.mark ? h('mark', null, piece.text) : document.createTextNode(piece.text));
    }
    return h(
      'li',
      { class: 'hit', dataset: { channel: hit.channel, seq: String(hit.seq) } },
      h(
        'button',
        { type: 'button', class: 'hit-button', onclick: () => this.actions.onJump(hit) },
        h(
          'span',
          { class: 'hit-head' },
          h('span', { class: 'hit-channel' }, this.actions.channelLabel(hit.channel)),
          h('span', { class: 'hit-author' }, author),
          typeof hit.ts === 'number' ? timeEl(hit.ts, 'hit-time') : null,
        ),
        excerpt,
      ),
    );
  }

}
