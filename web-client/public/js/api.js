// The hub's HTTP API (protocol.md §8, §9), called with the token the page
// signed in with. The page is served by the hub, so every call is same-origin.
// This module knows nothing about the DOM; `apiErrorText` turns a failure
// into a sentence for people.

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

/**
 * A sentence for a failed call. `what` names the attempt ("Could not add
 * ola"), `channel` the channel it was about.
 */
export function apiErrorText(err, { what, channel }) {
  const prefix = what ? `${what}: ` : '';
  if (!(err instanceof ApiError)) return `${prefix}something went wrong (${String(err && err.message ? err.message : err)}).`;
  const hubSaid = err.message && err.message !== err.code ? ` The hub said: “${err.message}”.` : '';
  switch (err.status) {
    case 0:
      return `${prefix}${err.code === 'timeout' ? 'the hub did not answer in time' : 'the hub could not be reached'}. Check the connection and try again.`;
    case 400:
      return `${prefix}the hub did not accept the request.${hubSaid}`;
    case 401:
      return `${prefix}the hub did not accept your sign-in. Open a new sign-in link and try again.`;
    case 403:
      return `${prefix}you are not allowed to do this. Only admins can manage the members of a channel.${hubSaid}`;
    case 404:
      return `${prefix}there is no channel called #${channel} on this hub.`;
    case 409:
      return `${prefix}it clashed with another change. Try again.${hubSaid}`;
    case 413:
      return `${prefix}the request was too large.`;
    case 429:
      return `${prefix}too many requests just now. Try again${err.retryAfterS ? ` in ${err.retryAfterS} s` : ' in a moment'}.`;
    default:
      if (err.status >= 500) return `${prefix}the hub had a problem (HTTP ${err.status}). Try again shortly.`;
      return `${prefix}the hub answered HTTP ${err.status}.${hubSaid}`;
  }
}
