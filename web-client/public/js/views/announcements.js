// Announcements: the banner of those needing attention, the received feed,
// the composer for leaders and admins, and the reach view of what they sent.

import { $, h, icon, Icons, setChildren } from '../dom.js';
import { count, displayName } from '../format.js';
import { fmt, t } from '../i18n.js';
import { timeEl } from './messages.js';

const PRIORITIES = ['normal', 'important', 'urgent'];
const priorityLabel = (p) => t(`ann.priority.${p}`);
const BANNER_LIMIT = 3;

function priorityOf(a) {
  return PRIORITIES.includes(a.priority) ? a.priority : 'normal';
}

function audienceText(audience) {
  if (!audience) return '';
  if (audience.all) return t('ann.everyone');
  if (Array.isArray(audience.channels)) return audience.channels.map((c) => `#${c}`).join(', ');
  return '';
}

/** One received announcement, with its Mark as read / Acknowledge buttons. */
export function announcementCard(entry, { onRead, onAck, headingLevel = 'h3', idPrefix = 'ann' }) {
  const a = entry.announcement;
  const priority = priorityOf(a);
  const titleId = `${idPrefix}-${a.id}-title`;
  const needsAck = Boolean(a.require_ack) && !entry.acked;
  const status = t(entry.acked ? 'ann.status.acked' : entry.read ? 'ann.status.read' : a.require_ack ? 'ann.status.needsAck' : 'ann.status.unread');

  return h(
    'article',
    {
      class: `announcement announcement--${priority}${needsAck ? ' announcement--needs-ack' : ''}`,
      'aria-labelledby': titleId,
      dataset: { announcementId: a.id },
    },
    h(
      'div',
      { class: 'announcement-head' },
      h('span', { class: `priority-badge priority-badge--${priority}` }, icon(priority === 'urgent' ? Icons.bell : Icons.megaphone, { size: 14 }), priorityLabel(priority)),
      h(headingLevel, { class: 'announcement-title', id: titleId }, a.title || t('ann.untitled')),
    ),
    h(
      'p',
      { class: 'announcement-meta' },
      `${t('reach.from', { name: displayName(a.from) })} · `,
      a.ts ? timeEl(a.ts, 'announcement-time') : null,
      entry.reminded ? ` · ${t('ann.reminder')}` : null,
    ),
    h('div', { class: 'announcement-body' }, a.body || ''),
    h(
      'div',
      { class: 'announcement-actions' },
      h('span', { class: `announcement-status${entry.acked ? ' announcement-status--done' : ''}` }, entry.acked || entry.read ? icon(Icons.check, { size: 14 }) : null, status),
      !entry.read && !entry.acked
        ? h('button', { type: 'button', class: 'btn btn--secondary btn--sm', 'data-action': 'read', onclick: () => onRead(entry) }, t('ann.markRead'))
        : null,
      needsAck ? h('button', { type: 'button', class: 'btn btn--primary btn--sm', 'data-action': 'ack', onclick: () => onAck(entry) }, t('ann.ack')) : null,
    ),
  );
}

/** The banner above the channel view: urgent first, at most a few. */
/**
 * The banner above a channel. Collapsed (the default at phone width), it is one line: the
 * first announcement needing attention (urgent ones come first, so an urgent one always
 * stays in sight) with its button, and a toggle that shows them all.
 */
export function renderBanner(container, entries, handlers, { collapsed = false, onToggle = null } = {}) {
  if (entries.length === 0) {
    container.hidden = true;
    container.replaceChildren();
    return;
  }
  container.hidden = false;
  container.classList.toggle('announcement-banner--collapsed', collapsed);
  const toggle = onToggle
    ? h(
        'button',
        {
          type: 'button',
          class: 'btn btn--ghost btn--xs banner-toggle',
          id: 'banner-toggle',
          'aria-expanded': String(!collapsed),
          // Short on screen (the title needs the width), whole for screen readers.
          'aria-label': collapsed ? t('banner.expand', { n: entries.length }) : null,
          onclick: onToggle,
        },
        collapsed ? t('banner.expandShort', { n: entries.length }) : t('banner.collapse'),
      )
    : null;
  if (collapsed) {
    setChildren(
      container,
      h('h2', { class: 'visually-hidden' }, t('banner.summary', { n: entries.length })),
      bannerLine(entries[0], handlers),
      toggle,
    );
    return;
  }
  const shown = entries.slice(0, BANNER_LIMIT);
  const more = entries.length - shown.length;
  setChildren(
    container,
    h('h2', { class: 'visually-hidden' }, t('banner.label')),
    shown.map((entry) => announcementCard(entry, { ...handlers, idPrefix: 'banner' })),
    more > 0
      ? h('button', { type: 'button', class: 'btn btn--ghost btn--sm banner-more', onclick: handlers.onViewAll }, t('banner.more', { n: more }))
      : null,
    toggle,
  );
}

/** One announcement as a single line: priority, title, and the one button it needs. */
function bannerLine(entry, { onRead, onAck }) {
  const a = entry.announcement;
  const priority = priorityOf(a);
  const needsAck = Boolean(a.require_ack) && !entry.acked;
  return h(
    'article',
    { class: `announcement announcement--line announcement--${priority}`, 'aria-labelledby': `line-${a.id}-title`, dataset: { announcementId: a.id } },
    h('span', { class: `priority-badge priority-badge--${priority}` }, icon(priority === 'urgent' ? Icons.bell : Icons.megaphone, { size: 14 }), priorityLabel(priority)),
    h('h3', { class: 'announcement-title', id: `line-${a.id}-title`, title: a.title || '' }, a.title || t('ann.untitled')),
    needsAck
      ? h('button', { type: 'button', class: 'btn btn--primary btn--xs', 'data-action': 'ack', onclick: () => onAck(entry) }, t('ann.ack'))
      : h('button', { type: 'button', class: 'btn btn--secondary btn--xs', 'data-action': 'read', onclick: () => onRead(entry) }, t('ann.markRead')),
  );
}

export function renderFeed(list, emptyEl, entries, handlers) {
  emptyEl.hidden = entries.length > 0;
  setChildren(
    list,
    entries.map((entry) => h('li', null, announcementCard(entry, { ...handlers, idPrefix: 'feed' }))),
  );
}

/**
 * Reach of announcements as the hub lists them (a leader's own; an admin's,
 * everyone's): audience, delivered, read, acknowledged; who has not read or
 * acknowledged (a page of names at a time); and Remind.
 */
export function renderSent(section, list, reach, { me, allAuthors, onRemind, onReceipts, onMoreReceipts, onMore }) {
  const entries = reach.list();
  section.hidden = !reach.loaded && !reach.error && entries.length === 0;
  $('#sent-title').textContent = allAuthors ? t('reach.titleAll') : t('reach.titleMine');
  const empty = $('#sent-empty');
  empty.hidden = !(reach.loaded && entries.length === 0);
  empty.textContent = allAuthors ? t('reach.noneAll') : t('reach.noneMine');
  $('#sent-error').textContent = reach.error || '';
  const more = $('#sent-more');
  more.hidden = !reach.hasMore;
  more.disabled = reach.loading;
  more.textContent = reach.loading ? t('reach.loading') : t('reach.more');
  more.onclick = onMore;
  list.setAttribute('aria-busy', String(reach.loading));
  setChildren(
    list,
    entries.map((entry) => {
      const a = entry.announcement;
      const s = entry.stats || {};
      const audience = typeof s.audience === 'number' ? s.audience : typeof a.audience_count === 'number' ? a.audience_count : null;
      const priority = priorityOf(a);
      const rows = [
        ['delivered', s.delivered],
        ['read', s.read],
      ];
      if (a.require_ack) rows.push(['acked', s.acked]);
      const mine = !a.from || (me && a.from.id === me.id);
      const states = [['unread', typeof s.read === 'number' && audience !== null ? audience - s.read : null]];
      if (a.require_ack) states.push(['unacked', typeof s.acked === 'number' && audience !== null ? audience - s.acked : null]);
      const titleId = `reach-${a.id}-title`;
      return h(
        'li',
        { class: 'reach', dataset: { announcementId: a.id } },
        h(
          'article',
          { 'aria-labelledby': titleId },
          h(
            'div',
            { class: 'reach-head' },
            h('span', { class: `priority-badge priority-badge--${priority}` }, priorityLabel(priority)),
            h('h3', { class: 'reach-title', id: titleId }, a.title || t('ann.untitled')),
          ),
          h(
            'p',
            { class: 'reach-meta' },
            mine ? null : `${t('reach.from', { name: displayName(a.from) })} · `,
            t('reach.to', { audience: audienceText(a.audience) || t('reach.itsAudience') }),
            a.ts ? [' · ', timeEl(a.ts, 'announcement-time')] : null,
            a.require_ack ? ` · ${t('reach.ackRequired')}` : null,
            a.until && a.until > Date.now() ? ` · ${t('reach.until', { date: fmt.dateTime(a.until) })}` : null,
          ),
          h(
            'dl',
            { class: 'reach-bars' },
            h('dt', null, t('reach.audience')),
            h('dd', { 'data-stat': 'audience' }, audience === null ? '…' : count('people', audience)),
            rows.map(([key, value]) => reachRow(key, value, audience)),
          ),
          h(
            'div',
            { class: 'reach-actions' },
            h(
              'button',
              { type: 'button', class: 'btn btn--secondary btn--sm', 'data-action': 'remind', onclick: (ev) => onRemind(entry, ev.currentTarget) },
              icon(Icons.bell, { size: 14 }),
              t('reach.remind'),
            ),
            states.map(([state, missing]) => {
              const r = entry.receipts[state];
              return h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn--ghost btn--sm',
                  'data-action': `receipts-${state}`,
                  'aria-expanded': String(Boolean(r && r.open)),
                  'aria-controls': `receipts-${a.id}-${state}`,
                  onclick: () => onReceipts(entry, state),
                },
                icon(Icons.users, { size: 14 }),
                t(`reach.show.${state}`, { n: missing ?? 0, count: missing === null ? '…' : fmt.integer(missing) }),
              );
            }),
            entry.reminded !== null && entry.reminded !== undefined
              ? h('span', { class: 'reach-note', role: 'status' }, entry.reminded === 0 ? t('reach.nobodyToRemind') : t('reach.reminded', { people: count('people', entry.reminded) }))
              : null,
          ),
          states.map(([state]) => receiptsPanel(entry, state, onMoreReceipts)),
        ),
      );
    }),
  );
}

/** Who has not read (or acknowledged) an announcement: names, a page at a time. */
function receiptsPanel(entry, state, onMore) {
  const r = entry.receipts[state];
  const a = entry.announcement;
  const id = `receipts-${a.id}-${state}`;
  if (!r || !r.open) return h('div', { id, class: 'receipts', hidden: true });
  const headingId = `${id}-title`;
  return h(
    'div',
    { id, class: 'receipts', role: 'region', 'aria-labelledby': headingId, dataset: { state } },
    h('h4', { id: headingId, class: 'receipts-title', tabindex: '-1' }, t(`reach.list.${state}`)),
    r.error ? h('p', { class: 'field-error', role: 'alert' }, r.error) : null,
    r.users.length
      ? h('ul', { class: 'receipts-list', 'aria-labelledby': headingId }, r.users.map((u) => h('li', { class: 'receipts-name', dataset: { userId: u.id } }, displayName(u))))
      : !r.loading && !r.error
        ? h('p', { class: 'empty-note' }, t(`reach.list.${state}.none`))
        : null,
    r.loading ? h('p', { class: 'hint', role: 'status' }, t('reach.loading')) : null,
    r.hasMore && !r.loading
      ? h('button', { type: 'button', class: 'btn btn--secondary btn--sm', 'data-action': `receipts-more-${state}`, onclick: () => onMore(entry, state) }, t('reach.moreNames'))
      : null,
  );
}

function reachRow(key, value, audience) {
  const known = typeof value === 'number';
  const pct = known && audience ? Math.round((value / audience) * 100) : 0;
  const fill = h('span', { class: 'bar-fill' });
  fill.style.setProperty('width', `${Math.min(100, pct)}%`);
  return [
    h('dt', null, t(`reach.row.${key}`)),
    h(
      'dd',
      null,
      h('span', { class: 'bar', role: 'img', 'aria-label': known ? t('reach.barAlt', { value, audience: audience ?? '?', pct }) : t('reach.notKnown') }, fill),
      h('span', { class: 'reach-value', 'data-stat': key }, known ? `${value}${audience !== null ? ` / ${audience}` : ''}` : '…'),
      h('span', { class: 'reach-pct', 'aria-hidden': 'true' }, known && audience ? fmt.pct(pct) : ''),
    ),
  ];
}

/**
 * The leader/admin composer. `onSubmit(fields)` returns a promise; the form
 * shows its error or closes on success.
 */
/**
 * The announcement form. `draft` (the fields as `onDraft` last reported them) fills it
 * again, so Escape or a reload loses nothing; `confirmText(fields)` returns the question
 * to ask before sending (an urgent announcement to everyone), or null to send at once.
 */
export function announceComposer({ channels, draft = null, onDraft = () => {}, confirmText = () => null, onSubmit, onCancel, onDiscard }) {
  const error = h('p', { class: 'field-error', role: 'alert' });
  const title = h('input', { id: 'announce-title', name: 'title', type: 'text', maxlength: '200', required: true, autocomplete: 'off' });
  const body = h('textarea', { id: 'announce-body', name: 'body', rows: '5', maxlength: '16384', required: true });
  const channelBoxes = channels.map((c) =>
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'audience-channel', value: c.name }),
      h('span', null, `#${c.name}`),
    ),
  );
  const channelPicker = h(
    'fieldset',
    { class: 'audience-channels', id: 'announce-channels', hidden: true },
    h('legend', { class: 'visually-hidden' }, t('compose.channelsLegend')),
    channelBoxes.length ? channelBoxes : h('p', { class: 'hint' }, t('compose.joinFirst')),
  );
  const audienceAll = h('input', { type: 'radio', name: 'audience', value: 'all', checked: true, id: 'announce-audience-all' });
  const audienceChannels = h('input', { type: 'radio', name: 'audience', value: 'channels', id: 'announce-audience-channels', 'aria-controls': 'announce-channels' });
  const syncAudience = () => {
    channelPicker.hidden = !audienceChannels.checked;
  };
  audienceAll.addEventListener('change', syncAudience);
  audienceChannels.addEventListener('change', syncAudience);

  const priority = h(
    'select',
    { id: 'announce-priority', name: 'priority' },
    h('option', { value: 'normal', selected: true }, priorityLabel('normal')),
    h('option', { value: 'important' }, priorityLabel('important')),
    h('option', { value: 'urgent' }, priorityLabel('urgent')),
  );
  const requireAck = h('input', { type: 'checkbox', id: 'announce-require-ack', name: 'require_ack' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary', id: 'announce-submit' }, t('compose.send'));
  const confirmQuestion = h('p', { class: 'announce-confirm-text', id: 'announce-confirm-text' });
  const confirmSend = h('button', { type: 'button', class: 'btn btn--primary', id: 'announce-confirm-send' }, t('compose.confirmSend'));
  const confirmBack = h('button', { type: 'button', class: 'btn btn--ghost', id: 'announce-confirm-back' }, t('compose.confirmBack'));
  const confirmBox = h(
    'div',
    { class: 'announce-confirm', id: 'announce-confirm', role: 'group', 'aria-labelledby': 'announce-confirm-text', hidden: true },
    confirmQuestion,
    h('div', { class: 'form-actions' }, confirmBack, confirmSend),
  );

  const form = h(
    'form',
    { class: 'announce-composer', id: 'announce-composer', 'aria-labelledby': 'announce-composer-title', novalidate: true },
    h('h2', { class: 'section-title', id: 'announce-composer-title' }, t('ann.new')),
    h('div', { class: 'field' }, h('label', { for: 'announce-title' }, t('compose.title')), title),
    h('div', { class: 'field' }, h('label', { for: 'announce-body' }, t('compose.body')), body),
    h(
      'div',
      { class: 'field' },
      h(
        'fieldset',
        { class: 'field field--plain' },
        h('legend', null, t('reach.audience')),
        h('label', { class: 'check' }, audienceAll, h('span', null, t('ann.everyone'))),
        h('label', { class: 'check' }, audienceChannels, h('span', null, t('compose.chosenChannels'))),
      ),
      channelPicker,
    ),
    h(
      'div',
      { class: 'field-grid' },
      h('div', { class: 'field' }, h('label', { for: 'announce-priority' }, t('compose.priority')), priority),
      h('div', { class: 'field field--check' }, h('label', { class: 'check' }, requireAck, h('span', null, t('compose.requireAck')))),
    ),
    error,
    h(
      'div',
      { class: 'form-actions', id: 'announce-actions' },
      h('button', { type: 'button', class: 'btn btn--ghost', id: 'announce-discard', onclick: onDiscard }, t('compose.discard')),
      submit,
    ),
    confirmBox,
  );

  const channelInputs = () => channelBoxes.map((l) => l.querySelector('input'));
  const readDraft = () => ({
    title: title.value,
    body: body.value,
    audience: audienceChannels.checked ? 'channels' : 'all',
    channels: channelInputs().filter((i) => i.checked).map((i) => i.value),
    priority: priority.value,
    require_ack: requireAck.checked,
  });
  if (draft) {
    title.value = draft.title || '';
    body.value = draft.body || '';
    audienceChannels.checked = draft.audience === 'channels';
    audienceAll.checked = !audienceChannels.checked;
    for (const input of channelInputs()) input.checked = (draft.channels || []).includes(input.value);
    if (PRIORITIES.includes(draft.priority)) priority.value = draft.priority;
    requireAck.checked = Boolean(draft.require_ack);
    syncAudience();
  }
  form.addEventListener('input', () => onDraft(readDraft()));
  form.addEventListener('change', () => onDraft(readDraft()));

  let pending = null; // the fields waiting for "send to N people?"
  const showConfirm = (question) => {
    confirmQuestion.textContent = question;
    confirmBox.hidden = false;
    form.querySelector('#announce-actions').hidden = true;
    confirmSend.focus();
  };
  const hideConfirm = () => {
    pending = null;
    confirmBox.hidden = true;
    form.querySelector('#announce-actions').hidden = false;
  };
  const send = async (fields) => {
    submit.disabled = true;
    confirmSend.disabled = true;
    submit.textContent = t('messages.sending');
    try {
      await onSubmit(fields);
    } catch (err) {
      hideConfirm();
      error.textContent = err && err.message ? err.message : t('compose.failed');
      submit.disabled = false;
      submit.textContent = t('compose.send');
      submit.focus();
    } finally {
      confirmSend.disabled = false;
    }
  };
  confirmSend.addEventListener('click', () => pending && send(pending));
  confirmBack.addEventListener('click', () => {
    hideConfirm();
    submit.focus();
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const fields = {
      title: title.value.trim(),
      body: body.value.trim(),
      priority: priority.value,
      require_ack: requireAck.checked,
    };
    if (!fields.title) {
      error.textContent = t('compose.needTitle');
      title.focus();
      return;
    }
    if (!fields.body) {
      error.textContent = t('compose.needBody');
      body.focus();
      return;
    }
    if (audienceChannels.checked) {
      const chosen = channelBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      if (chosen.length === 0) {
        error.textContent = t('compose.needChannel');
        return;
      }
      fields.audience = { channels: chosen };
    } else {
      fields.audience = { all: true };
    }
    const question = confirmText(fields);
    if (question) {
      pending = fields;
      showConfirm(question);
      return;
    }
    await send(fields);
  });
  // Escape steps back out of the question, then closes the form; the draft stays.
  form.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    ev.preventDefault();
    if (pending) {
      hideConfirm();
      submit.focus();
    } else {
      onDraft(readDraft());
      onCancel();
    }
  });
  return { form, focus: () => title.focus() };
}
