// Formatting of times, names and counts for display, in the page's language.

import { intlLocale, language, t } from './i18n.js';

let formats = null;

/** Intl formatters for the current language, made again when it changes. */
function f() {
  const lang = language();
  if (formats && formats.lang === lang) return formats;
  const locale = intlLocale(lang);
  formats = {
    lang,
    locale,
    rtf: new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' }),
    time: new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }),
    full: new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }),
    day: new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long' }),
    dayYear: new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }),
    short: new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }),
  };
  return formats;
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 hr ago", "yesterday 14:05", "12 Nov 09:30". */
export function relativeTime(ts, now = Date.now()) {
  const diff = now - ts;
  const { rtf, time, short } = f();
  if (diff < 45 * 1000) return t('time.justNow');
  if (diff < HOUR) return rtf.format(-Math.round(diff / MINUTE), 'minute');
  if (diff < 12 * HOUR) return rtf.format(-Math.round(diff / HOUR), 'hour');
  const days = dayDiff(ts, now);
  if (days === 0) return t('time.today', { time: time.format(ts) });
  if (days === 1) return t('time.yesterday', { time: time.format(ts) });
  if (days < 7) return rtf.format(-days, 'day');
  return short.format(ts);
}

export function fullTime(ts) {
  return f().full.format(ts);
}

export function clockTime(ts) {
  return f().time.format(ts);
}

/** Calendar day key (local time) used to group messages by day. */
export function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function dayLabel(ts, now = Date.now()) {
  const days = dayDiff(ts, now);
  if (days === 0) return t('time.Today');
  if (days === 1) return t('time.Yesterday');
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? f().day : f().dayYear).format(ts);
}

function dayDiff(ts, now) {
  const a = new Date(ts);
  const b = new Date(now);
  const startA = new Date(a.getFullYear(), a.getMonth(), a.getDate()).getTime();
  const startB = new Date(b.getFullYear(), b.getMonth(), b.getDate()).getTime();
  return Math.round((startB - startA) / DAY);
}

export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return '?';
  const first = [...parts[0]][0] || '?';
  const last = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
  return (first + last).toUpperCase();
}

/** A stable, calm hue per user id for avatars. */
export function avatarHue(id) {
  let hash = 0;
  for (const ch of String(id)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** How a channel is named on screen: `#name`, or for a direct channel the other
 *  people's names (its `title`; its name is a hash). */
export function channelLabel(ch) {
  return ch.kind === 'direct' ? ch.title || t('direct.untitled') : `#${ch.name}`;
}

/** `n` and the word for it from the dictionary: count('people', 3) → "3 people" / "3 personer". */
export function count(word, n) {
  return t(`count.${word}`, { n, count: new Intl.NumberFormat(f().locale).format(n) });
}

/** "Ola is typing…", "Ola and Kari are typing…", "Several people are typing…" */
export function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return t('typing.one', { a: names[0] });
  if (names.length === 2) return t('typing.two', { a: names[0], b: names[1] });
  if (names.length === 3) return t('typing.three', { a: names[0], b: names[1], c: names[2] });
  return t('typing.many');
}

export function displayName(user) {
  if (!user) return t('user.unknown');
  return user.name || user.id || t('user.unknown');
}
