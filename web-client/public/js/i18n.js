// The web client's words in English and Norwegian (bokmål), and numbers and
// dates formatted for the chosen language. No build step: one dictionary
// object per language. The language comes from the browser (nb, nn and no
// give bokmål) until the person picks one with the switch in the header;
// that choice is remembered in localStorage. The hub's own error messages
// stay English (they are for developers); the client's sentences around
// them are translated.

import { en } from './i18n/en.js';
import { nb } from './i18n/nb.js';

const DICTIONARIES = { en, nb };
const KEY = 'dugnad.lang';
const listeners = new Set();

/** The languages offered, each named in itself. */
export const LANGUAGES = [
  { code: 'nb', name: 'Norsk', short: 'NO' },
  { code: 'en', name: 'English', short: 'EN' },
];

function fromBrowser() {
  const tags = (typeof navigator !== 'undefined' && (navigator.languages?.length ? navigator.languages : [navigator.language])) || [];
  for (const tag of tags) {
    const primary = String(tag || '').toLowerCase().split('-')[0];
    if (primary === 'nb' || primary === 'nn' || primary === 'no') return 'nb';
    if (primary === 'en') return 'en';
  }
  return 'en';
}

function saved() {
  try {
    const value = localStorage.getItem(KEY);
    return value && DICTIONARIES[value] ? value : null;
  } catch {
    return null;
  }
}

let current = saved() || fromBrowser();
let formats = makeFormats(current);

/** The BCP 47 locale that Intl formats with: bokmål as written in Norway; English as
 *  the browser writes it (en-US or en-GB), British where it is not English. */
export function intlLocale(lang = current) {
  if (lang === 'nb') return 'nb-NO';
  const browser = typeof navigator !== 'undefined' ? navigator.language : '';
  return /^en(-|$)/i.test(browser || '') ? browser : 'en-GB';
}

export function language() {
  return current;
}

/** Switch language, remember it, and tell every listener (views re-render). */
export function setLanguage(lang) {
  if (!DICTIONARIES[lang] || lang === current) return;
  current = lang;
  formats = makeFormats(lang);
  try {
    localStorage.setItem(KEY, lang);
  } catch {
    /* storage disabled: the choice lasts for this page */
  }
  document.documentElement.lang = lang;
  for (const fn of listeners) fn(lang);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * The text for `key` in the current language (English when a key is missing
 * there). An entry is a string with `{name}` placeholders or a function of the
 * parameters (for plurals and word order).
 */
export function t(key, params = {}) {
  const entry = DICTIONARIES[current][key] ?? en[key];
  if (entry === undefined) return key;
  if (typeof entry === 'function') return entry(params);
  return entry.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Fill elements marked in the HTML: `data-i18n` (text) and
 *  `data-i18n-attr="aria-label:key; placeholder:key"` (attributes). */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  document.documentElement.lang = current;
}

function makeFormats(lang) {
  const loc = intlLocale(lang);
  return {
    integer: new Intl.NumberFormat(loc, { maximumFractionDigits: 0 }),
    decimal: new Intl.NumberFormat(loc, { maximumFractionDigits: 1 }),
    percent: new Intl.NumberFormat(loc, { style: 'percent', maximumFractionDigits: 1 }),
    day: new Intl.DateTimeFormat(loc, { day: 'numeric', month: 'short', timeZone: 'UTC' }),
    weekday: new Intl.DateTimeFormat(loc, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }),
    date: new Intl.DateTimeFormat(loc, { day: 'numeric', month: 'short', year: 'numeric' }),
    dateTime: new Intl.DateTimeFormat(loc, { dateStyle: 'medium', timeStyle: 'short' }),
  };
}

/** Numbers and dates in the current language. */
export const fmt = {
  integer: (n) => formats.integer.format(n),
  number: (n) => formats.decimal.format(n),
  /** A share given in percent (75.5 → "75.5 %" / "75,5 %"). */
  pct: (n) => formats.percent.format(n / 100),
  /** "2026-11-29" (a UTC day, as the hub counts them) → "29 Nov" / "29. nov.". */
  day: (iso) => formats.day.format(Date.parse(`${iso}T00:00:00Z`)),
  weekday: (iso) => formats.weekday.format(Date.parse(`${iso}T00:00:00Z`)),
  date: (ts) => formats.date.format(ts),
  dateTime: (ts) => formats.dateTime.format(ts),
  /** A duration in ms, roughly: "45 min", "5.9 h", "2.1 days". */
  duration: (ms) => {
    const min = ms / 60000;
    if (min < 90) return t('unit.minutes', { n: formats.integer.format(Math.max(1, Math.round(min))) });
    const hours = min / 60;
    if (hours < 48) return t('unit.hours', { n: formats.decimal.format(hours) });
    return t('unit.days', { n: formats.decimal.format(hours / 24) });
  },
};
