// The channel list (with unread counts) and the presence panel.

import { h, icon, Icons, reconcile, setChildren } from '../dom.js';
import { channelLabel, count, displayName } from '../format.js';
import { t } from '../i18n.js';
import { avatar } from './messages.js';

const KIND_ICON = { public: Icons.hash, private: Icons.lock, announce: Icons.megaphone, direct: Icons.users };
const KINDS = ['public', 'private', 'announce', 'direct'];

/**
 * Keeps one <li> per channel and updates it in place, so keyboard focus on a
 * channel survives unread counts changing.
 */
export class ChannelListView {
  constructor(listEl, emptyEl, onSelect) {
    this.listEl = listEl;
    this.emptyEl = emptyEl;
    this.onSelect = onSelect;
    this.items = new Map(); // name -> {li, button, badge, label}
  }

  render(channels, activeName) {
    const rows = [];
    const seen = new Set();
    for (const ch of channels) {
      seen.add(ch.name);
      let item = this.items.get(ch.name);
      if (!item) {
        item = this.makeItem(ch);
        this.items.set(ch.name, item);
      }
      const active = ch.name === activeName;
      const unread = ch.unread;
      item.button.classList.toggle('is-active', active);
      item.button.classList.toggle('has-unread', unread > 0 && !active);
      if (active) item.button.setAttribute('aria-current', 'page');
      else item.button.removeAttribute('aria-current');
      const badgeText = unread > 99 ? '99+' : String(unread);
      item.badge.hidden = unread === 0;
      if (item.badge.textContent !== badgeText) item.badge.textContent = badgeText;
      const mentions = ch.unreadMentions;
      item.mentionBadge.hidden = mentions === 0;
      item.mentionBadge.textContent = `@${mentions > 99 ? '99+' : mentions}`;
      item.button.classList.toggle('has-mention', mentions > 0 && !active);
      item.srUnread.textContent = `${unread > 0 ? `, ${count('unread', unread)}` : ''}${mentions > 0 ? `, ${count('mentions', mentions)}` : ''}`;
      item.srKind.textContent = `, ${t(KINDS.includes(ch.kind) ? `sidebar.kind.${ch.kind}` : 'sidebar.kind.other')}`;
      const name = ch.kind === 'direct' ? channelLabel(ch) : ch.name;
      if (item.label.textContent !== name) item.label.textContent = name;
      item.icon.replaceWith((item.icon = icon(KIND_ICON[ch.kind] || Icons.hash, { size: 16 })));
      rows.push(item.li);
    }
    for (const [name, item] of this.items) {
      if (!seen.has(name)) {
        item.li.remove();
        this.items.delete(name);
      }
    }
    reconcile(this.listEl, rows);
    this.emptyEl.hidden = channels.length > 0;
  }

  makeItem(ch) {
    const badge = h('span', { class: 'badge', 'aria-hidden': 'true' });
    const mentionBadge = h('span', { class: 'badge badge--mention', 'aria-hidden': 'true', hidden: true });
    const srUnread = h('span', { class: 'visually-hidden' });
    const srKind = h('span', { class: 'visually-hidden' });
    const kindIcon = icon(KIND_ICON[ch.kind] || Icons.hash, { size: 16 });
    const label = h('span', { class: 'channel-name' });
    const button = h(
      'button',
      { type: 'button', class: 'nav-item channel-item', dataset: { channel: ch.name }, onclick: () => this.onSelect(ch.name) },
      kindIcon,
      label,
      srKind,
      srUnread,
      badge,
      mentionBadge,
    );
    return { li: h('li', null, button), button, badge, mentionBadge, srUnread, srKind, label, icon: kindIcon };
  }

  focus(name) {
    this.items.get(name)?.button.focus();
  }
}

/** Who is online in the active channel (or only how many, in counts mode), each other
 *  person with a button that opens a direct channel with them (`onDirect(user)`). */
export function renderPresence({ countEl, listEl, toggleEl }, channel, me, onDirect) {
  if (!channel) {
    countEl.textContent = '';
    listEl.replaceChildren();
    toggleEl.textContent = '';
    return;
  }
  const online = channel.presenceMode === 'counts' ? channel.presenceCount : Math.max(channel.presence.length, channel.presenceCount || 0);
  const label = channel.joined ? t('presence.online', { n: online }) : t('presence.offline');
  if (toggleEl.dataset.label !== label) {
    toggleEl.dataset.label = label;
    setChildren(toggleEl, icon(Icons.users, { size: 16 }), h('span', null, label));
  }
  if (channel.presenceMode === 'counts') {
    countEl.textContent = t('presence.large', { people: count('people', online) });
    listEl.replaceChildren();
    return;
  }
  if (!channel.joined) {
    // What we last knew is stale while the connection is down.
    countEl.textContent = t('presence.youOffline');
    listEl.replaceChildren();
    return;
  }
  countEl.textContent = t('presence.people', { people: count('people', online) });
  const people = [...channel.presence].sort((a, b) => {
    if (me && a.id === me.id) return -1;
    if (me && b.id === me.id) return 1;
    return displayName(a).localeCompare(displayName(b));
  });
  setChildren(
    listEl,
    people.map((p) =>
      h(
        'li',
        { class: 'presence-item', dataset: { userId: p.id } },
        h('span', { class: 'presence-avatar' }, avatar(p.id, displayName(p), 'avatar--sm'), h('span', { class: 'online-dot', 'aria-hidden': 'true' })),
        h('span', { class: 'presence-name' }, displayName(p)),
        me && p.id === me.id
          ? h('span', { class: 'presence-you' }, t('presence.you'))
          : channel.kind === 'direct'
            ? null
            : h(
                'button',
                { type: 'button', class: 'icon-btn icon-btn--sm presence-direct', 'aria-label': t('direct.start', { name: displayName(p) }), title: t('direct.startShort'), onclick: () => onDirect(p) },
                icon(Icons.send, { size: 14 }),
              ),
      ),
    ),
  );
}
