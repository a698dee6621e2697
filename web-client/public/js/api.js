// The hub's HTTP API (protocol.md §8, §9), called with the token the page
// signed in with. The page is served by the hub, so every call is same-origin.
// This module knows nothing about the DOM; `apiErrorText` turns a failure
// into a sentence for people.

import { t } from './i18n.js';

const TIMEOUT_MS = 15000;

/** A failed call: `status` is the HTTP status (0 when the hub was not reached),
 *  `code` and `message` come from the hub's `{"error":{code,message}}`. */
export class ApiError extends Error {
  constructor(status, code, message, { retryAfterS = null } = {}) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || null;
    this.retryAfterS = retryAfterS;
  }
}

/**
 * `method path` with `Authorization: Bearer token`; resolves with
 * `{status, data}` (data is the parsed JSON body, or null for 204), rejects
 * with an ApiError for any status outside 2xx or a network failure.
 */
export async function apiRequest(method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal: abort.signal,
    });
  } catch (err) {
    const timedOut = err && err.name === 'AbortError';
    throw new ApiError(0, timedOut ? 'timeout' : 'network', timedOut ? 'The hub did not answer in time.' : 'The hub could not be reached.');
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  const text = response.status === 204 ? '' : await response.text().catch(() => '');
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const retry = Number(response.headers.get('Retry-After'));
    throw new ApiError(response.status, error.code, error.message, { retryAfterS: Number.isFinite(retry) && retry > 0 ? retry : null });
  }
  return { status: response.status, data };
}

const seg = (value) => encodeURIComponent(value);

/** `GET /api/v1/channels/{name}/members?after=&limit=` → {members, has_more}. */
export async function listMembers(token, channel, { after = null, limit = 50 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (after) query.set('after', after);
  const { data } = await apiRequest('GET', `/api/v1/channels/${seg(channel)}/members?${query}`, { token });
  return {
    members: Array.isArray(data && data.members) ? data.members : [],
    hasMore: Boolean(data && data.has_more),
  };
}

/** `PUT /api/v1/channels/{name}/members/{user}` → true when the grant is new (201),
 *  false when the user already had one (200). */
export async function addMember(token, channel, userId) {
  const { status } = await apiRequest('PUT', `/api/v1/channels/${seg(channel)}/members/${seg(userId)}`, { token });
  return status === 201;
}

/** `DELETE /api/v1/channels/{name}/members/{user}` (204). */
export async function removeMember(token, channel, userId) {
  await apiRequest('DELETE', `/api/v1/channels/${seg(channel)}/members/${seg(userId)}`, { token });
}

/** `GET /api/v1/announcements/{id}/receipts?state=&after=&limit=` → {users, hasMore}:
 *  the audience users who have not read (`unread`) or not acknowledged (`unacked`) it. */
export async function listReceipts(token, announcementId, state, { after = null, limit = 50 } = {}) {
  const query = new URLSearchParams({ state, limit: String(limit) });
  if (after) query.set('after', after);
  const { data } = await apiRequest('GET', `/api/v1/announcements/${seg(announcementId)}/receipts?${query}`, { token });
  return {
    users: Array.isArray(data && data.users) ? data.users : [],
    hasMore: Boolean(data && data.has_more),
  };
}

/** `GET /api/v1/stats?days=N` → the engagement figures (http-api.md). */
export async function getStats(token, days) {
  const { data } = await apiRequest('GET', `/api/v1/stats?days=${encodeURIComponent(String(days))}`, { token });
  return data || {};
}

/** `GET /api/v1/goals` → [{metric, target, set_by, set_at, current, trend}]. */
export async function getGoals(token) {
  const { data } = await apiRequest('GET', '/api/v1/goals', { token });
  return Array.isArray(data && data.goals) ? data.goals : [];
}

/** `PUT /api/v1/goals` with the whole set ([{metric, target}]); admins only. */
export async function putGoals(token, goals) {
  const { data } = await apiRequest('PUT', '/api/v1/goals', { token, body: { goals } });
  return Array.isArray(data && data.goals) ? data.goals : [];
}

/**
 * A sentence for a failed call, in the page's language. `what` names the
 * attempt ("Could not add ola"); `channel` the channel it was about (a 404
 * then says there is no such channel); `forbidden` what a 403 means here.
 */
export function apiErrorText(err, { what, channel = null, forbidden = null }) {
  const prefix = what ? t('api.prefix', { what }) : '';
  if (!(err instanceof ApiError)) return prefix + t('api.other', { detail: String(err && err.message ? err.message : err) });
  const hubSaid = err.message && err.message !== err.code ? t('api.hubSaid', { message: err.message }) : '';
  switch (err.status) {
    case 0:
      return prefix + t(err.code === 'timeout' ? 'api.timeout' : 'api.network');
    case 400:
      return prefix + t('api.400') + hubSaid;
    case 401:
      return prefix + t('api.401');
    case 403:
      return `${prefix}${t('api.403')}${forbidden ? ` ${forbidden}` : ''}${hubSaid}`;
    case 404:
      return prefix + (channel ? t('api.404channel', { channel }) : t('api.404'));
    case 409:
      return prefix + t('api.409') + hubSaid;
    case 413:
      return prefix + t('api.413');
    case 429:
      return prefix + t('api.429', { after: err.retryAfterS });
    default:
      if (err.status >= 500) return prefix + t('api.5xx', { status: err.status });
      return prefix + t('api.status', { status: err.status }) + hubSaid;
  }
}
