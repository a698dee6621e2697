// Formatting of times, names and counts for display.

const locale = (typeof navigator !== 'undefined' && navigator.language) || 'en';
const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
const timeFmt = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' });
const dayFmt = new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long' });
const dayYearFmt = new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 hr ago", "yesterday 14:05", "12 Nov 09:30". */
export function relativeTime(ts, now = Date.now()) {
  const diff = now - ts;
  if (diff < 45 * 1000) return 'just now';
  if (diff < HOUR) return rtf.format(-Math.round(diff / MINUTE), 'minute');
  if (diff < 12 * HOUR) return rtf.format(-Math.round(diff / HOUR), 'hour');
  const days = dayDiff(ts, now);
  if (days === 0) return `today ${timeFmt.format(ts)}`;
  if (days === 1) return `yesterday ${timeFmt.format(ts)}`;
  if (days < 7) return rtf.format(-days, 'day');
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(ts);
}

export function fullTime(ts) {
  return fullFmt.format(ts);
}

export function clockTime(ts) {
  return timeFmt.format(ts);
}

/** Calendar day key (local time) used to group messages by day. */
export function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function dayLabel(ts, now = Date.now()) {
  const days = dayDiff(ts, now);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const sameYear = new Date(ts).getFullYear() === new Date(now).getFullYear();
  return (sameYear ? dayFmt : dayYearFmt).format(ts);
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

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** "Ola is typing…", "Ola and Kari are typing…", "Several people are typing…" */
export function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return 'Several people are typing…';
}

export function displayName(user) {
  if (!user) return 'Unknown';
  return user.name || user.id || 'Unknown';
}
