// The sign-in token: taken from the URL fragment (`#token=...`), kept in
// sessionStorage for this tab, and removed from the address bar so it does
// not end up in bookmarks, screenshots or the history list.

const TOKEN_KEY = 'dugnad.token';

/** Read a token from the fragment if there is one, store it, and clean the
 *  address bar. Returns the token to use, or null. */
export function takeToken(loc = window.location, storage = window.sessionStorage) {
  const fromFragment = tokenFromFragment(loc.hash);
  if (fromFragment !== null) {
    safeSet(storage, fromFragment);
    const clean = loc.pathname + loc.search;
    window.history.replaceState(window.history.state, '', clean);
    return fromFragment || null;
  }
  return safeGet(storage);
}

/** Accept a pasted sign-in link or a bare token (from the sign-in page). */
export function tokenFromInput(text) {
  const value = String(text || '').trim();
  if (!value) return null;
  const hashAt = value.indexOf('#');
  if (hashAt >= 0) return tokenFromFragment(value.slice(hashAt));
  return value;
}

export function storeToken(token, storage = window.sessionStorage) {
  safeSet(storage, token);
}

export function clearToken(storage = window.sessionStorage) {
  try {
    storage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled */
  }
}

function tokenFromFragment(hash) {
  if (!hash || hash.length < 2) return null;
  const params = new URLSearchParams(hash.slice(1));
  if (!params.has('token')) return null;
  return (params.get('token') || '').trim();
}

function safeGet(storage) {
  try {
    return storage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function safeSet(storage, token) {
  try {
    storage.setItem(TOKEN_KEY, token);
  } catch {
    /* storage disabled: the token lives only in memory for this page */
  }
}
