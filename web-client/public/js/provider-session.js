// Sign-in with the company account (issue 18): the hub's /auth/* endpoints. The hub
// keeps the session in an HttpOnly cookie this page cannot read; the page asks it for
// a short-lived session token (never in the address bar, never stored) and renews it
// on the live connection with `refresh` before it expires, without reconnecting.

/** `{oidc, provider, login, session}` from `GET /auth/config` (`session`: this browser
 *  has a live hub session); `{oidc: false}` when the hub has no provider or cannot be asked. */
export async function providerConfig() {
  try {
    const res = await fetch('/auth/config', { credentials: 'same-origin' });
    return res.ok ? await res.json() : { oidc: false };
  } catch {
    return { oidc: false };
  }
}

/** A session token `{token, expires_at, user}` for this browser's hub session, or
 *  null when there is none (not signed in through the provider, or it ended). */
export async function providerSessionToken() {
  try {
    const res = await fetch('/auth/session', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

/** Ends the hub session (the cookie goes too). */
export async function providerSignOut() {
  try {
    await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin' });
  } catch {
    /* offline: the session ends with its lifetime */
  }
}

/** Keeps a connection's token fresh: at four fifths of each token's life it fetches
 *  the next and sends `refresh` (the hub applies the claims, e.g. a group removed at
 *  the provider ends that channel). `onEnded` runs when the hub session is gone. */
export class TokenRenewer {
  constructor(conn, expiresAt, { onEnded } = {}) {
    this.conn = conn;
    this.onEnded = onEnded;
    this.timer = null;
    this.schedule(expiresAt);
  }

  schedule(expiresAt) {
    clearTimeout(this.timer);
    const lifetime = Math.max(0, expiresAt - Date.now());
    this.timer = setTimeout(() => this.renew(), Math.max(1000, lifetime * 0.8));
  }

  async renew() {
    clearTimeout(this.timer);
    const next = await providerSessionToken();
    if (this.stopped) return;
    if (!next) {
      this.onEnded?.();
      return;
    }
    this.conn.setToken(next.token); // a reconnect uses it too
    try {
      await this.conn.request('refresh', { token: next.token });
    } catch (err) {
      console.warn('dugnad: refresh not applied now; the next connection uses the new token', err);
    }
    this.schedule(next.expires_at);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
