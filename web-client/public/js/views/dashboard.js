// The engagement dashboard for leaders and admins: goals as progress toward
// their targets (admins change the targets here), active people per day,
// posters and readers per channel, and the reach of announcements, over a
// chosen number of days. Figures come from GET /api/v1/stats and
// GET /api/v1/goals; every chart has a text alternative and its numbers as
// a table, and the two big tables download as CSV.

import { apiErrorText, getGoals, getStats, putGoals } from '../api.js';
import { h, icon, Icons, setChildren } from '../dom.js';
import { fmt, t } from '../i18n.js';
import { barChart, cellBar, progressBar, sparkline } from './charts.js';

/** The goal metrics, in the hub's order (http-api.md "Goals"). */
export const METRICS = [
  { metric: 'weekly_active_pct', unit: 'pct', max: 100 },
  { metric: 'announcement_read_within_24h_pct', unit: 'pct', max: 100 },
  { metric: 'announcement_ack_within_24h_pct', unit: 'pct', max: 100 },
  { metric: 'leader_posts_per_week', unit: 'count', max: 1000000 },
  { metric: 'channels_with_activity_pct', unit: 'pct', max: 100 },
];

export const PERIODS = [7, 30, 90, 365];

function metricInfo(metric) {
  return METRICS.find((m) => m.metric === metric) || { metric, unit: 'count', max: 1000000 };
}

function valueText(value, unit) {
  if (typeof value !== 'number') return t('dash.none');
  return unit === 'pct' ? fmt.pct(value) : fmt.number(value);
}

/** Quote a CSV field when it needs it (RFC 4180). */
function csvField(value) {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCSV(rows) {
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export class DashboardView {
  /**
   * `els`: {root, title, period, status, error, content}; `deps`: {getToken(),
   * isAdmin(), onDownload({name, text}), requiresAck(id) → true, false or
   * undefined when the client does not know}.
   */
  constructor(els, deps) {
    this.els = els;
    this.deps = deps;
    this.days = 30;
    this.stats = null;
    this.goals = null;
    this.editing = null; // the metric whose target form is open
    this.editError = '';
    this.loadSeq = 0;
    for (const input of els.period.querySelectorAll('input[name="dashboard-days"]')) {
      input.addEventListener('change', () => {
        if (input.checked) this.setDays(Number(input.value));
      });
    }
  }

  get isOpen() {
    return !this.els.root.hidden;
  }

  /** Show fresh figures: goals and the chosen period's stats. */
  async load() {
    const seq = ++this.loadSeq;
    const token = this.deps.getToken();
    this.setBusy(true);
    this.els.error.textContent = '';
    try {
      const [stats, goals] = await Promise.all([getStats(token, this.days), getGoals(token)]);
      if (seq !== this.loadSeq) return;
      this.stats = stats;
      this.goals = goals;
      this.render();
      this.els.status.textContent = t('dash.loaded', { days: this.days });
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.els.status.textContent = '';
      this.els.error.textContent = apiErrorText(err, { what: t('dash.loadFailed'), forbidden: t('dash.forbidden') });
    } finally {
      if (seq === this.loadSeq) this.setBusy(false);
    }
  }

  async setDays(days) {
    if (!PERIODS.includes(days)) return;
    this.days = days;
    for (const input of this.els.period.querySelectorAll('input[name="dashboard-days"]')) input.checked = Number(input.value) === days;
    const seq = ++this.loadSeq;
    this.setBusy(true);
    try {
      const stats = await getStats(this.deps.getToken(), days);
      if (seq !== this.loadSeq) return;
      this.stats = stats;
      this.render();
      this.els.status.textContent = t('dash.loaded', { days });
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.els.error.textContent = apiErrorText(err, { what: t('dash.loadFailed'), forbidden: t('dash.forbidden') });
    } finally {
      if (seq === this.loadSeq) this.setBusy(false);
    }
  }

  setBusy(busy) {
    this.els.content.setAttribute('aria-busy', String(busy));
    if (busy) this.els.status.textContent = t('dash.loading');
  }

  render() {
    if (!this.stats && !this.goals) {
      this.els.content.replaceChildren();
      return;
    }
    setChildren(this.els.content, this.renderSummary(), this.renderGoals(), this.renderActive(), this.renderChannels(), this.renderAnnouncements());
  }

  // ---- summary ---------------------------------------------------------------

  renderSummary() {
    const s = this.stats || {};
    const daily = Array.isArray(s.daily_active_users) ? s.daily_active_users : [];
    const channels = Array.isArray(s.channels) ? s.channels : [];
    const anns = Array.isArray(s.announcements) ? s.announcements : [];
    const avgActive = daily.length ? daily.reduce((n, d) => n + (d.users || 0), 0) / daily.length : null;
    const messages = channels.reduce((n, c) => n + (c.messages || 0), 0);
    const audience = anns.reduce((n, a) => n + (a.audience || 0), 0);
    const read = anns.reduce((n, a) => n + (a.read || 0), 0);
    const tiles = [
      ['avg-active', t('dash.tile.avgActive'), avgActive === null ? t('dash.none') : fmt.number(avgActive)],
      ['messages', t('dash.tile.messages'), fmt.integer(messages)],
      ['read', t('dash.tile.read'), audience ? fmt.pct((read / audience) * 100) : t('dash.none')],
    ];
    return h(
      'section',
      { class: 'dash-summary', 'aria-labelledby': 'dash-summary-title' },
      h('h2', { id: 'dash-summary-title', class: 'visually-hidden' }, t('dash.summary', { days: this.days })),
      h(
        'ul',
        { class: 'dash-tiles' },
        tiles.map(([key, label, value]) => h('li', { class: 'dash-tile', dataset: { tile: key } }, h('span', { class: 'dash-tile-label' }, label), h('span', { class: 'dash-tile-value' }, value))),
      ),
    );
  }

  // ---- goals -----------------------------------------------------------------

  renderGoals() {
    const goals = this.goals || [];
    const admin = this.deps.isAdmin();
    const byMetric = new Map(goals.map((g) => [g.metric, g]));
    const shown = admin ? METRICS.map((m) => byMetric.get(m.metric) || { metric: m.metric, target: null, current: null, trend: [] }) : goals;
    return h(
      'section',
      { class: 'dash-section', 'aria-labelledby': 'dash-goals-title', id: 'dash-goals' },
      h('h2', { id: 'dash-goals-title', class: 'dash-title' }, t('dash.goals')),
      h('p', { class: 'dash-lead' }, t(admin ? 'dash.goalsLeadAdmin' : 'dash.goalsLead')),
      shown.length === 0 ? h('p', { class: 'empty-note' }, t('dash.noGoals')) : h('ul', { class: 'goal-list' }, shown.map((g) => h('li', null, this.goalCard(g, admin)))),
      shown.some((g) => g.target !== null) ? this.goalsTable(shown.filter((g) => g.target !== null)) : null,
    );
  }

  goalCard(goal, admin) {
    const info = metricInfo(goal.metric);
    const titleId = `goal-${goal.metric}-title`;
    const hasTarget = typeof goal.target === 'number';
    const current = typeof goal.current === 'number' ? goal.current : null;
    const met = hasTarget && current !== null && current >= goal.target;
    const trend = Array.isArray(goal.trend) ? goal.trend : [];
    const status = !hasTarget ? t('dash.goal.noTarget') : current === null ? t('dash.goal.nothingToCount') : met ? t('dash.goal.met') : t(info.unit === 'pct' ? 'dash.goal.belowPoints' : 'dash.goal.below', { gap: fmt.number(goal.target - current) });
    const trendText = trend.length
      ? t('dash.goal.trendAlt', { values: trend.map((v) => (typeof v === 'number' ? valueText(v, info.unit) : t('dash.none'))).join(', ') })
      : t('dash.goal.noTrend');
    return h(
      'article',
      { class: `goal${met ? ' goal--met' : ''}${hasTarget ? '' : ' goal--unset'}`, 'aria-labelledby': titleId, dataset: { metric: goal.metric } },
      h('h3', { id: titleId, class: 'goal-title' }, t(`metric.${goal.metric}`)),
      h('p', { class: 'goal-help' }, t(`metric.${goal.metric}.help`)),
      hasTarget
        ? [
            h(
              'p',
              { class: 'goal-figures' },
              h('span', { class: 'goal-current', 'data-stat': 'current' }, valueText(current, info.unit)),
              h('span', { class: 'goal-target' }, `${t('dash.goal.target')} `, h('span', { 'data-stat': 'target' }, valueText(goal.target, info.unit))),
            ),
            progressBar(current, goal.target, { met, label: `${t('dash.goal.progressAlt', { current: valueText(current, info.unit), target: valueText(goal.target, info.unit) })} ${status}` }),
            h('p', { class: `goal-status${met ? ' goal-status--met' : ''}` }, met ? icon(Icons.check, { size: 14 }) : null, status),
            h(
              'div',
              { class: 'goal-trend' },
              sparkline(trend, { target: goal.target, label: trendText }),
              h('span', { class: 'goal-trend-label', 'aria-hidden': 'true' }, t('dash.goal.weeks')),
            ),
          ]
        : h('p', { class: 'goal-status' }, status),
      admin ? this.goalEditor(goal, info) : null,
    );
  }

  goalEditor(goal, info) {
    const editing = this.editing === goal.metric;
    const formId = `goal-${goal.metric}-form`;
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'btn btn--ghost btn--sm goal-edit',
        'aria-expanded': String(editing),
        'aria-controls': formId,
        'data-action': 'edit-goal',
        onclick: () => this.openEditor(editing ? null : goal.metric),
      },
      typeof goal.target === 'number' ? t('dash.goal.change') : t('dash.goal.set'),
    );
    if (!editing) return h('div', { class: 'goal-actions' }, toggle);
    const inputId = `goal-${goal.metric}-input`;
    const errorId = `goal-${goal.metric}-error`;
    const input = h('input', {
      id: inputId,
      type: 'number',
      inputmode: 'decimal',
      min: '0',
      max: String(info.max),
      step: 'any',
      value: typeof goal.target === 'number' ? String(goal.target) : '',
      'aria-describedby': `${goal.metric}-range ${errorId}`,
      'aria-invalid': this.editError ? 'true' : null,
    });
    const form = h(
      'form',
      { class: 'goal-form', id: formId, novalidate: true },
      h('label', { for: inputId }, t('dash.goal.targetLabel', { metric: t(`metric.${goal.metric}`) })),
      h(
        'div',
        { class: 'field-row' },
        input,
        h('span', { class: 'goal-unit', 'aria-hidden': 'true' }, info.unit === 'pct' ? '%' : ''),
        h('button', { type: 'submit', class: 'btn btn--primary btn--sm', 'data-action': 'save-goal' }, t('dash.goal.save')),
        h('button', { type: 'button', class: 'btn btn--ghost btn--sm', 'data-action': 'cancel-goal', onclick: () => this.openEditor(null, { focusToggle: goal.metric }) }, t('dash.goal.cancel')),
      ),
      h('p', { class: 'hint', id: `${goal.metric}-range` }, info.unit === 'pct' ? t('dash.goal.rangePct') : t('dash.goal.rangeCount', { max: fmt.integer(info.max) })),
      h('p', { class: 'field-error', id: errorId, role: 'alert' }, this.editError),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.saveTarget(goal.metric, input.value, info);
    });
    form.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        this.openEditor(null, { focusToggle: goal.metric });
      }
    });
    return h('div', { class: 'goal-actions' }, toggle, form);
  }

  openEditor(metric, { focusToggle = null } = {}) {
    this.editing = metric;
    this.editError = '';
    this.render();
    if (metric) document.getElementById(`goal-${metric}-input`)?.focus();
    else if (focusToggle) this.focusToggle(focusToggle);
  }

  focusToggle(metric) {
    this.els.content.querySelector(`[data-metric="${CSS.escape(metric)}"] [data-action="edit-goal"]`)?.focus();
  }

  async saveTarget(metric, raw, info) {
    const text = String(raw).trim().replace(',', '.');
    const target = Number(text);
    const fail = (message) => {
      this.editError = message;
      this.render();
      const input = document.getElementById(`goal-${metric}-input`);
      if (input) {
        input.value = raw;
        input.focus();
      }
    };
    if (text === '' || !Number.isFinite(target)) return fail(t('dash.goal.notANumber'));
    if (target < 0 || target > info.max) return fail(info.unit === 'pct' ? t('dash.goal.rangePct') : t('dash.goal.rangeCount', { max: fmt.integer(info.max) }));
    // PUT replaces the whole set: send every goal, with this one changed or added.
    const set = (this.goals || []).filter((g) => typeof g.target === 'number').map((g) => ({ metric: g.metric, target: g.target }));
    const existing = set.find((g) => g.metric === metric);
    if (existing) existing.target = target;
    else set.push({ metric, target });
    const token = this.deps.getToken();
    try {
      await putGoals(token, set);
      this.goals = await getGoals(token);
    } catch (err) {
      return fail(apiErrorText(err, { what: t('dash.goal.saveFailed'), forbidden: t('dash.goal.forbidden') }));
    }
    this.editing = null;
    this.editError = '';
    this.render();
    this.els.status.textContent = t('dash.goal.saved', { metric: t(`metric.${metric}`), target: valueText(target, info.unit) });
    this.focusToggle(metric);
  }

  goalsTable(goals) {
    const weeks = 8;
    return h(
      'details',
      { class: 'dash-details' },
      h('summary', null, t('dash.asTable')),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'dash-table', id: 'goals-table' },
          h('caption', null, t('dash.goalsTable')),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, t('dash.col.goal')),
              h('th', { scope: 'col', class: 'num' }, t('dash.col.target')),
              Array.from({ length: weeks }, (_, i) => h('th', { scope: 'col', class: 'num' }, i === weeks - 1 ? t('dash.col.now') : t('dash.col.weeksAgo', { n: weeks - 1 - i }))),
            ),
          ),
          h(
            'tbody',
            null,
            goals.map((g) => {
              const info = metricInfo(g.metric);
              const trend = Array.isArray(g.trend) ? g.trend : [];
              const padded = Array.from({ length: weeks }, (_, i) => trend[trend.length - weeks + i]);
              return h(
                'tr',
                null,
                h('th', { scope: 'row' }, t(`metric.${g.metric}`)),
                h('td', { class: 'num' }, valueText(g.target, info.unit)),
                padded.map((v) => h('td', { class: 'num' }, valueText(v, info.unit))),
              );
            }),
          ),
        ),
      ),
    );
  }

  // ---- active people per day ---------------------------------------------------

  renderActive() {
    const daily = Array.isArray(this.stats?.daily_active_users) ? this.stats.daily_active_users : [];
    const items = daily.map((d) => ({ label: d.day, value: d.users || 0 }));
    let alt = t('dash.active.none');
    if (items.length) {
      const top = items.reduce((a, b) => (b.value > a.value ? b : a));
      const avg = items.reduce((n, i) => n + i.value, 0) / items.length;
      alt = t('dash.active.alt', { from: fmt.day(items[0].label), to: fmt.day(items[items.length - 1].label), avg: fmt.number(avg), max: fmt.integer(top.value), maxDay: fmt.day(top.label) });
    }
    const tickEvery = items.length <= 10 ? 1 : items.length <= 31 ? 7 : items.length <= 92 ? 14 : 61;
    return h(
      'section',
      { class: 'dash-section', 'aria-labelledby': 'dash-active-title', id: 'dash-active' },
      h('h2', { id: 'dash-active-title', class: 'dash-title' }, t('dash.active')),
      h('p', { class: 'dash-lead' }, t('dash.activeLead')),
      items.length
        ? h(
            'figure',
            { class: 'dash-chart' },
            barChart(items, {
              label: alt,
              tickEvery,
              tickLabel: (i) => (items.length <= 10 ? fmt.weekday(i.label) : fmt.day(i.label)),
              titleOf: (i) => `${fmt.day(i.label)}: ${t('dash.people', { n: i.value, count: fmt.integer(i.value) })}`,
            }),
            h('figcaption', { class: 'visually-hidden' }, alt),
          )
        : h('p', { class: 'empty-note' }, alt),
      items.length
        ? h(
            'details',
            { class: 'dash-details' },
            h('summary', null, t('dash.asTable')),
            h(
              'div',
              { class: 'table-scroll table-scroll--tall' },
              h(
                'table',
                { class: 'dash-table', id: 'active-table' },
                h('caption', null, t('dash.active')),
                h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('dash.col.day')), h('th', { scope: 'col', class: 'num' }, t('dash.col.activePeople')))),
                h('tbody', null, items.map((i) => h('tr', null, h('th', { scope: 'row' }, fmt.weekday(i.label)), h('td', { class: 'num' }, fmt.integer(i.value))))),
              ),
            ),
          )
        : null,
    );
  }

  // ---- channels ------------------------------------------------------------------

  renderChannels() {
    const channels = Array.isArray(this.stats?.channels) ? this.stats.channels : [];
    const maxPeople = Math.max(1, ...channels.map((c) => Math.max(c.active_posters || 0, c.active_readers || 0)));
    const maxMessages = Math.max(1, ...channels.map((c) => c.messages || 0));
    return h(
      'section',
      { class: 'dash-section', 'aria-labelledby': 'dash-channels-title', id: 'dash-channels' },
      h(
        'div',
        { class: 'dash-section-head' },
        h('h2', { id: 'dash-channels-title', class: 'dash-title' }, t('dash.channels')),
        channels.length ? this.downloadButton('channels', () => this.channelsCSV(channels)) : null,
      ),
      h('p', { class: 'dash-lead' }, t('dash.channelsLead')),
      channels.length === 0
        ? h('p', { class: 'empty-note' }, t('dash.channels.none'))
        : h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'dash-table dash-table--bars', id: 'channels-table' },
              h('caption', { class: 'visually-hidden' }, t('dash.channels')),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', { scope: 'col' }, t('dash.col.channel')),
                  h('th', { scope: 'col', class: 'num' }, t('dash.col.messages')),
                  h('th', { scope: 'col' }, t('dash.col.posters')),
                  h('th', { scope: 'col' }, t('dash.col.readers')),
                ),
              ),
              h(
                'tbody',
                null,
                channels.map((c) =>
                  h(
                    'tr',
                    { dataset: { channel: c.channel } },
                    h('th', { scope: 'row' }, `#${c.channel}`),
                    h('td', { class: 'num' }, h('span', { class: 'cell-with-bar' }, cellBar(c.messages, maxMessages, { width: 60, kind: 'muted' }), h('span', { 'data-stat': 'messages' }, fmt.integer(c.messages || 0)))),
                    h('td', null, h('span', { class: 'cell-with-bar' }, cellBar(c.active_posters, maxPeople, { kind: 'posters' }), h('span', { 'data-stat': 'posters' }, fmt.integer(c.active_posters || 0)))),
                    h('td', null, h('span', { class: 'cell-with-bar' }, cellBar(c.active_readers, maxPeople, { kind: 'readers' }), h('span', { 'data-stat': 'readers' }, fmt.integer(c.active_readers || 0)))),
                  ),
                ),
              ),
            ),
          ),
    );
  }

  channelsCSV(channels) {
    return toCSV([['channel', 'messages', 'active_posters', 'active_readers'], ...channels.map((c) => [c.channel, c.messages, c.active_posters, c.active_readers])]);
  }

  // ---- announcements ---------------------------------------------------------------

  renderAnnouncements() {
    const anns = Array.isArray(this.stats?.announcements) ? this.stats.announcements : [];
    return h(
      'section',
      { class: 'dash-section', 'aria-labelledby': 'dash-reach-title', id: 'dash-reach' },
      h(
        'div',
        { class: 'dash-section-head' },
        h('h2', { id: 'dash-reach-title', class: 'dash-title' }, t('dash.reach')),
        anns.length ? this.downloadButton('announcements', () => this.announcementsCSV(anns)) : null,
      ),
      h('p', { class: 'dash-lead' }, t('dash.reachLead')),
      anns.length === 0
        ? h('p', { class: 'empty-note' }, t('dash.reach.none'))
        : h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'dash-table dash-table--bars', id: 'reach-table' },
              h('caption', { class: 'visually-hidden' }, t('dash.reach')),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', { scope: 'col' }, t('dash.col.announcement')),
                  h('th', { scope: 'col' }, t('dash.col.posted')),
                  h('th', { scope: 'col', class: 'num' }, t('dash.col.audience')),
                  h('th', { scope: 'col' }, t('dash.col.readPct')),
                  h('th', { scope: 'col' }, t('dash.col.ackPct')),
                  h('th', { scope: 'col', class: 'num' }, t('dash.col.medianRead')),
                ),
              ),
              h(
                'tbody',
                null,
                anns.map((a) =>
                  h(
                    'tr',
                    { dataset: { announcementId: a.id } },
                    h('th', { scope: 'row', class: 'cell-title' }, a.title || t('ann.untitled')),
                    h('td', { class: 'nowrap' }, a.ts ? fmt.date(a.ts) : ''),
                    h('td', { class: 'num' }, fmt.integer(a.audience || 0)),
                    h('td', null, h('span', { class: 'cell-with-bar' }, cellBar(a.read_pct, 100, { width: 80, kind: 'read' }), h('span', { 'data-stat': 'read_pct' }, valueText(a.read_pct, 'pct')))),
                    // Where the client knows that no acknowledgement was asked for, 0 % would mislead.
                    this.deps.requiresAck?.(a.id) === false
                      ? h('td', null, h('span', { 'data-stat': 'ack_pct', title: t('dash.ackNotAsked') }, t('dash.none')), h('span', { class: 'visually-hidden' }, ` ${t('dash.ackNotAsked')}`))
                      : h('td', null, h('span', { class: 'cell-with-bar' }, cellBar(a.ack_pct, 100, { width: 80, kind: 'acked' }), h('span', { 'data-stat': 'ack_pct' }, valueText(a.ack_pct, 'pct')))),
                    h('td', { class: 'num nowrap' }, typeof a.median_ms_to_read === 'number' ? fmt.duration(a.median_ms_to_read) : t('dash.none')),
                  ),
                ),
              ),
            ),
          ),
    );
  }

  announcementsCSV(anns) {
    return toCSV([
      ['id', 'title', 'posted', 'audience', 'read', 'acked', 'read_pct', 'ack_pct', 'median_minutes_to_read'],
      ...anns.map((a) => [
        a.id,
        a.title,
        a.ts ? new Date(a.ts).toISOString() : '',
        a.audience,
        a.read,
        a.acked,
        a.read_pct,
        a.ack_pct,
        typeof a.median_ms_to_read === 'number' ? Math.round(a.median_ms_to_read / 600) / 100 : '',
      ]),
    ]);
  }

  downloadButton(what, makeText) {
    return h(
      'button',
      {
        type: 'button',
        class: 'btn btn--secondary btn--sm',
        'data-action': `csv-${what}`,
        onclick: () => {
          const name = `dugnad-${what}-${this.days}d.csv`;
          this.deps.onDownload({ name, text: makeText() });
        },
      },
      icon(Icons.download, { size: 14 }),
      t(`dash.csv.${what}`),
    );
  }
}

/** Save `text` as a file named `name`, made in the page (a Blob): nothing is sent anywhere. */
export function downloadText(name, text, type = 'text/csv;charset=utf-8') {
  // A byte order mark, so that spreadsheets read æ, ø and å as UTF-8.
  const blob = new Blob(['\ufeff', text], { type });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
