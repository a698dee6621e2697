// The admin's Members panel of a private channel: who is a member (a page at a
// time, "Show more" while the hub has more), adding a member by user id, and
// removing one after an inline confirmation. Everything goes through the HTTP
// API with the signed-in token; results are announced in a polite live
// region, failures in an alert, and keyboard focus always lands somewhere
// sensible (the new rows, the next Remove button, the id field).

import { addMember, apiErrorText as apiErrorTextFor, listMembers, removeMember } from '../api.js';
import { h, icon, Icons, setChildren } from '../dom.js';
import { displayName } from '../format.js';
import { t } from '../i18n.js';
import { avatar, timeEl } from './messages.js';

const apiErrorText = (err, options) => apiErrorTextFor(err, { forbidden: t('api.membersForbidden'), ...options });

/** Members fetched per page (the hub allows 1–500). */
export const MEMBERS_PAGE = 50;
const USER_ID_MAX_BYTES = 128;

export class MembersPanel {
  /**
   * @param {object} els  title, backLabel, form, input, addButton, addError, status, list, empty,
   *                      more, error, heading
   * @param {object} deps getToken() -> the signed-in token, getMe() -> {id, name}
   */
  constructor(els, deps) {
    Object.assign(this, els);
    this.deps = deps;
    this.channel = null;
    this.members = []; // [{id, name, online, last_seen}] in the hub's order (by id)
    this.hasMore = false;
    this.loading = false;
    this.confirming = null; // user id whose removal is being confirmed
    this.generation = 0; // bumps on open/close: late answers for another channel are dropped

    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.add();
    });
    this.input.addEventListener('input', () => {
      this.addError.textContent = '';
      this.input.removeAttribute('aria-invalid');
    });
    this.more.addEventListener('click', () => this.loadMore());
    this.addButton.prepend(icon(Icons.userPlus, { size: 16 }));
  }

  get token() {
    return this.deps.getToken();
  }

  /** Show the panel for `channel` (a channel name) and load its first page. */
  open(channel) {
    this.generation += 1;
    this.channel = channel;
    this.members = [];
    this.hasMore = false;
    this.confirming = null;
    this.title.textContent = t('members.of', { name: channel });
    this.backLabel.textContent = t('members.back', { name: channel });
    this.input.value = '';
    this.input.removeAttribute('aria-invalid');
    this.addError.textContent = '';
    this.error.textContent = '';
    this.status.textContent = '';
    this.setLoading(true);
    this.render();
    return this.reload({ announce: true });
  }

  close() {
    this.generation += 1;
    this.channel = null;
    this.confirming = null;
  }

  /** Fetch pages from the start until at least `atLeast` members are shown again
   *  (after an add, the list keeps the length it had). */
  async reload({ atLeast = 0, announce = false } = {}) {
    const generation = this.generation;
    const channel = this.channel;
    if (!channel) return;
    this.setLoading(true);
    this.error.textContent = '';
    const members = [];
    let hasMore = false;
    let after = null;
    try {
      do {
        const page = await listMembers(this.token, channel, { after, limit: MEMBERS_PAGE });
        if (generation !== this.generation) return;
        members.push(...page.members);
        hasMore = page.hasMore;
        after = page.members.length ? page.members[page.members.length - 1].id : null;
      } while (hasMore && after && members.length < atLeast);
    } catch (err) {
      if (generation !== this.generation) return;
      this.setLoading(false);
      this.error.textContent = apiErrorText(err, { what: t('members.loadFailed', { name: channel }), channel });
      this.render();
      return;
    }
    this.members = members;
    this.hasMore = hasMore;
    this.setLoading(false);
    this.render();
    if (announce) this.say(this.countText());
  }

  async loadMore() {
    if (!this.hasMore || this.loading || !this.channel) return;
    const generation = this.generation;
    const channel = this.channel;
    const after = this.members.length ? this.members[this.members.length - 1].id : null;
    this.setLoading(true);
    this.error.textContent = '';
    try {
      const page = await listMembers(this.token, channel, { after, limit: MEMBERS_PAGE });
      if (generation !== this.generation) return;
      const known = new Set(this.members.map((m) => m.id));
      const fresh = page.members.filter((m) => !known.has(m.id));
      this.members.push(...fresh);
      this.hasMore = page.hasMore;
      this.setLoading(false);
      this.render();
      this.say(`${t('members.moreShown', { n: fresh.length })} ${this.countText()}`);
      // Focus the first new row, so the next Tab continues where the list grew.
      if (fresh.length) this.rowFor(fresh[0].id)?.focus();
      else this.input.focus();
    } catch (err) {
      if (generation !== this.generation) return;
      this.setLoading(false);
      this.render();
      this.error.textContent = apiErrorText(err, { what: t('members.moreFailed'), channel });
    }
  }

  async add() {
    const channel = this.channel;
    if (!channel) return;
    const userId = this.input.value.trim();
    this.addError.textContent = '';
    if (!userId) return this.invalid(t('members.needId'));
    if (new TextEncoder().encode(userId).length > USER_ID_MAX_BYTES) return this.invalid('A user id is at most 128 bytes long.');
    if (userId.startsWith('bot:')) return this.invalid(t('members.noBots'));

    const generation = this.generation;
    this.addButton.disabled = true;
    try {
      const created = await addMember(this.token, channel, userId);
      if (generation !== this.generation) return;
      this.input.value = '';
      await this.reload({ atLeast: this.members.length + 1 });
      if (generation !== this.generation) return;
      const member = this.members.find((m) => m.id === userId);
      const who = member && member.name && member.name !== userId ? `${member.name} (${userId})` : userId;
      let text = created ? t('members.added', { who, name: channel }) : t('members.already', { who, name: channel });
      // The hub names people it has seen or was told about (the directory); a bare
      // id that never signed in may be a typo.
      if (created && member && member.name === userId && member.last_seen == null && !member.online) {
        text += ` ${t('members.unknownId')}`;
      }
      this.say(text);
    } catch (err) {
      if (generation !== this.generation) return;
      this.invalid(apiErrorText(err, { what: t('members.addFailed', { who: userId }), channel }));
    } finally {
      this.addButton.disabled = false;
      if (generation === this.generation) this.input.focus();
    }
  }

  invalid(text) {
    this.addError.textContent = text;
    this.input.setAttribute('aria-invalid', 'true');
    this.input.focus();
  }

  askRemove(member) {
    this.confirming = member.id;
    this.render();
    // The least destructive choice gets the focus; Enter on it changes nothing.
    this.rowFor(member.id)?.querySelector('[data-action="cancel-remove"]')?.focus();
  }

  cancelRemove(member) {
    this.confirming = null;
    this.render();
    this.rowFor(member.id)?.querySelector('[data-action="remove"]')?.focus();
  }

  async confirmRemove(member, button) {
    const channel = this.channel;
    const generation = this.generation;
    button.disabled = true;
    this.error.textContent = '';
    try {
      await removeMember(this.token, channel, member.id);
      if (generation !== this.generation) return;
      const index = this.members.findIndex((m) => m.id === member.id);
      if (index >= 0) this.members.splice(index, 1);
      this.confirming = null;
      this.render();
      this.say(`${t('members.removed', { who: `${displayName(member)} (${member.id})`, name: channel })} ${this.countText()}`);
      const next = this.members[index] || this.members[index - 1];
      const target = next ? this.rowFor(next.id)?.querySelector('[data-action="remove"]') : null;
      (target || this.input).focus();
    } catch (err) {
      if (generation !== this.generation) return;
      button.disabled = false;
      this.error.textContent = apiErrorText(err, { what: t('members.removeFailed', { who: displayName(member) }), channel });
      this.rowFor(member.id)?.querySelector('[data-action="cancel-remove"]')?.focus();
    }
  }

  // ---- rendering -------------------------------------------------------------

  setLoading(loading) {
    this.loading = loading;
    this.list.setAttribute('aria-busy', String(loading));
    this.more.disabled = loading;
    this.more.textContent = loading && this.members.length ? t('messages.loading') : t('members.more');
  }

  say(text) {
    // Clear first so that the same sentence twice is announced twice.
    this.status.textContent = '';
    requestAnimationFrame(() => {
      this.status.textContent = text;
    });
  }

  countText() {
    const n = this.members.length;
    if (n === 0) return t('members.none', { name: this.channel });
    return this.hasMore ? t('members.first', { n }) : t('members.count', { n, name: this.channel });
  }

  rowFor(id) {
    return this.list.querySelector(`[data-user-id="${CSS.escape(id)}"]`);
  }

  render() {
    const me = this.deps.getMe();
    this.heading.textContent = this.members.length || !this.loading ? `${t('channel.members')} (${this.members.length}${this.hasMore ? '+' : ''})` : t('channel.members');
    this.empty.hidden = this.loading || this.members.length > 0 || Boolean(this.error.textContent);
    this.more.hidden = !this.hasMore;
    setChildren(
      this.list,
      this.members.map((member) => this.row(member, me)),
    );
  }

  row(member, me) {
    const name = displayName(member);
    const isMe = me && member.id === me.id;
    const seen = member.online
      ? h('span', { class: 'member-seen member-seen--online' }, t('members.online'))
      : member.last_seen
        ? h('span', { class: 'member-seen' }, `${t('members.lastSeen')} `, timeEl(member.last_seen, 'member-time'))
        : h('span', { class: 'member-seen' }, t('members.neverSeen'));
    const confirming = this.confirming === member.id;
    const questionId = `member-confirm-${cssId(member.id)}`;
    const actions = confirming
      ? h(
          'div',
          { class: 'member-confirm', role: 'group', 'aria-labelledby': questionId },
          h('span', { class: 'member-confirm-text', id: questionId }, t('members.confirm', { who: name, name: this.channel })),
          h(
            'span',
            { class: 'member-confirm-buttons' },
            h('button', { type: 'button', class: 'btn btn--danger btn--sm', 'data-action': 'confirm-remove', onclick: (ev) => this.confirmRemove(member, ev.currentTarget) }, t('members.remove')),
            h('button', { type: 'button', class: 'btn btn--ghost btn--sm', 'data-action': 'cancel-remove', onclick: () => this.cancelRemove(member) }, t('dash.goal.cancel')),
          ),
        )
      : h(
          'button',
          {
            type: 'button',
            class: 'btn btn--ghost btn--sm member-remove',
            'data-action': 'remove',
            'aria-label': t('members.removeLabel', { who: name, name: this.channel }),
            onclick: () => this.askRemove(member),
          },
          t('members.remove'),
        );
    const li = h(
      'li',
      { class: `member${confirming ? ' member--confirming' : ''}`, tabindex: '-1', dataset: { userId: member.id } },
      h('span', { class: 'presence-avatar' }, avatar(member.id, name, 'avatar--sm'), member.online ? h('span', { class: 'online-dot', 'aria-hidden': 'true' }) : null),
      h(
        'span',
        { class: 'member-info' },
        h('span', { class: 'member-name' }, name, isMe ? h('span', { class: 'presence-you' }, ` ${t('presence.you')}`) : null),
        h('span', { class: 'member-details' }, h('span', { class: 'member-id' }, member.id), ' · ', seen),
      ),
      actions,
    );
    li.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && this.confirming === member.id) {
        ev.preventDefault();
        this.cancelRemove(member);
      }
    });
    return li;
  }
}

/** An id attribute fragment from any user id (ids may hold any character). */
function cssId(id) {
  return Array.from(String(id), (c) => (/[A-Za-z0-9_-]/.test(c) ? c : `_${c.codePointAt(0).toString(16)}`)).join('');
}
