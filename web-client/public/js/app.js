// The Dugnad web client: wires the protocol connection to the client state
// and the views. Rendering lives in views/, the protocol in connection.js.

import { apiErrorText, listReceipts } from './api.js';
import { Connection, hubURL, State } from './connection.js';
import { $, h, icon, Icons, setChildren } from './dom.js';
import { Drafts } from './drafts.js';
import { avatarHue, channelLabel, displayName, initials, typingText } from './format.js';
import { applyStatic, language, LANGUAGES, onLanguageChange, setLanguage, t } from './i18n.js';
import { providerConfig, providerSessionToken, providerSignOut, TokenRenewer } from './provider-session.js';
import { clearToken, storeToken, takeToken, tokenFromInput } from './session.js';
import { applyJoinReply, applyLiveMessage, rejoinFields } from './recovery.js';
import { Notifier } from './notify.js';
import { Sender } from './sender.js';
import { AnnouncementInbox, ChannelState, newClientId, Outbox, ReachList } from './store.js';
import { announceComposer, renderBanner, renderFeed, renderSent } from './views/announcements.js';
import { ComposerView } from './views/composer.js';
import { DashboardView, downloadText } from './views/dashboard.js';
import { DirectoryView } from './views/directory.js';
import { MembersPanel } from './views/members.js';
import { MentionCompleter } from './views/mention-complete.js';
import { MessageListView, refreshTimes } from './views/messages.js';
import { SearchView } from './views/search.js';
import { ChannelListView, renderPresence } from './views/sidebar.js';

const CHANNEL_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const HISTORY_PAGE = 50;
// A search result older than what is held: at most this many pages of 200 are loaded
// to reach it (2,000 messages back).
const JUMP_PAGES = 10;
const REACH_PAGE = 20;
const RECEIPTS_PAGE = 50;
const TYPING_SHOW_MS = 6000;
const ACTIVE_KEY = 'dugnad.active';
const NARROW = window.matchMedia('(max-width: 759px)');
const WIDE = window.matchMedia('(min-width: 1100px)');

/** Sign-in refusals the page explains (the `reason` of an `unauthorized` close). */
const SIGNIN_REASONS = ['missing_token', 'auth_timeout', 'invalid_token', 'bad_signature', 'token_expired', 'token_not_yet_valid'];

/** What the `removed` event's reason means, for the person removed (protocol.md §9). */
const REMOVED_REASONS = ['removed_by_admin', 'access_ended'];

/** Screens for the close codes that forbid reconnecting (4500–4999, protocol.md §1). */
const STOPPED_REASONS = ['banned', 'key_revoked'];

/** Error codes the page says in its own words (in bokmål always; in English where the
 *  hub gave no message of its own, or the failure was the connection's). */
const ERROR_CODES = ['forbidden', 'not_found', 'too_large', 'rate_limited', 'bad_request', 'internal', 'offline', 'disconnected', 'timeout'];

function errorText(err) {
  if (!err) return t('error.unknown');
  const known = ERROR_CODES.includes(err.code);
  const connection = ['offline', 'disconnected', 'timeout'].includes(err.code);
  if (err.message && err.code && !connection && !(known && language() !== 'en')) return err.message;
  return known ? t(`error.${err.code}`) : err.message || t('error.unknown');
}

class App {
  constructor() {
    this.conn = null;
    this.me = null;
    this.channels = new Map(); // name -> ChannelState
    this.channelOrder = [];
    this.view = null; // {kind: 'channel', name} | {kind: 'announcements'} | {kind: 'empty'}
    this.outbox = new Outbox();
    this.drafts = new Drafts();
    this.inbox = new AnnouncementInbox();
    this.reach = new ReachList();
    this.lastDownload = null; // {name, text} of the last CSV made (tests read it)
    this.sender = new Sender(this.outbox, {
      publish: (fields) => this.conn.request('publish', fields, { timeoutMs: 20000 }),
      canSend: (channel) => Boolean(this.conn && this.conn.isReady && this.channels.get(channel)?.joined),
      confirmed: (item, m) => {
        const target = this.channels.get(m.channel || item.channel);
        if (!target) return;
        this.absorb(target, m);
        target.advanceSynced();
        target.readSeq = Math.max(target.readSeq, m.seq);
        if (target.hasGap && !target.joining) this.fillGap(target);
      },
      describe: (err) => errorText(err),
      changed: () => this.invalidate('messages', 'sidebar'),
    });
    this.markReadTimers = new Map();
    this.renderQueued = new Set();
    this.composerSlotOpen = false;
    this.everConnected = false;
    this.isAdmin = false;
    this.connects = 0; // sockets this page has opened (tests check that a stopped page opens no more)
    this.stopped = null; // {code, reason} once the hub said not to reconnect
  }

  // ---- start-up and sign-in ---------------------------------------------

  boot() {
    this.bindStatic();
    const token = takeToken();
    if (token) this.startSession(token);
    else this.resumeProviderSession({ ifSignedIn: true });
    // A sign-in link opened in a tab already showing Dugnad only changes the
    // fragment (no reload): pick the new token up and start over with it.
    // Leaving the page: send read positions still waiting for their debounce.
    window.addEventListener('pagehide', () => {
      for (const name of [...this.markReadTimers.keys()]) {
        const ch = this.channels.get(name);
        if (ch) this.sendMarkRead(ch);
      }
    });
    window.addEventListener('hashchange', () => {
      if (!/[#&]token=/.test(window.location.hash)) return;
      const fresh = takeToken();
      if (!fresh) return;
      if (this.conn) window.location.reload();
      else this.startSession(fresh);
    });
    setInterval(() => refreshTimes(), 30000);
    // The offline shell (sw.js): the page opens from the home screen without a network.
    if ('serviceWorker' in navigator && window.isSecureContext) navigator.serviceWorker.register('sw.js').catch(() => {});
    window.__dugnad = {
      debugDropConnection: (options) => this.conn?.debugDrop(options),
      debugReconnect: () => this.conn?.reconnectNow(),
      state: () => this.debugState(),
      lastDownload: () => this.lastDownload,
      // The extensions the hub agreed to (permessage-deflate), for the browser tests.
      extensions: () => this.conn?.ws?.extensions ?? null,
      // Renew the provider session's token now rather than at its timer (the sign-in tests).
      renewToken: () => this.renewer?.renew(),
    };
  }

  showSignin(reason) {
    showScreen('signin');
    const reasonEl = $('#signin-reason');
    reasonEl.hidden = !reason;
    reasonEl.textContent = reason || '';
    document.title = `${t('signin.submit')} · Dugnad`;
    $('#signin-input').focus();
    this.offerProvider();
  }

  /** Signed in through the company's provider before (a session cookie the page
   *  cannot see): connect with a fresh session token, else show the sign-in screen. */
  async resumeProviderSession({ ifSignedIn = false } = {}) {
    this.providerConfig ??= providerConfig();
    // At start, only a browser with a hub session asks for a token (no refused request otherwise).
    if (ifSignedIn && !(await this.providerConfig).session) {
      this.showSignin(null);
      return;
    }
    const session = await providerSessionToken();
    if (session) this.startSession(session.token, { expiresAt: session.expires_at });
    else this.showSignin(null);
  }

  /** "Sign in with <provider>" on the sign-in screen, when the hub has one. */
  async offerProvider() {
    this.providerConfig ??= providerConfig();
    const config = await this.providerConfig;
    $('#signin-oidc').hidden = !config.oidc;
    if (config.oidc) $('#signin-oidc-link').textContent = t('signin.with', { name: config.provider });
  }

  /** `expiresAt` (ms): a token from the provider's session, renewed before then. */
  startSession(token, { expiresAt = null } = {}) {
    showScreen('app');
    this.stopped = null;
    this.conn = new Connection({ url: hubURL(), token });
    const c = this.conn;
    if (expiresAt) this.renewer = new TokenRenewer(c, expiresAt);
    c.on('state', (s) => this.onConnState(s));
    c.on('welcome', (w) => this.onWelcome(w));
    c.on('unauthorized', ({ reason }) => this.onUnauthorized(reason));
    c.on('fatal', ({ code, reason }) => this.onFatal(code, reason));
    c.on('message', (m) => this.onMessage(m));
    c.on('presence_diff', (e) => this.onPresenceDiff(e));
    c.on('typing', (e) => this.onTyping(e));
    c.on('reaction', (e) => this.onReaction(e));
    c.on('message_edited', (e) => this.onMessageChange(e, (ch) => ch.applyEdit(e)));
    c.on('direct_channel', (e) => this.onDirectChannel(e));
    c.on('mention', (e) => this.onMention(e));
    c.on('message_deleted', (e) => this.onMessageChange(e, (ch) => ch.applyDelete(e)));
    c.on('announcement', (a) => this.onAnnouncement(a));
    c.on('announcement_stats', (s) => this.onAnnouncementStats(s));
    c.on('announcement_receipt', (e) => this.onAnnouncementReceipt(e));
    c.on('read_position', (e) => this.onReadPosition(e));
    c.on('removed', (e) => this.onRemoved(e));
    c.on('error', (e) => this.onServerError(e));
    c.start();
  }

  onUnauthorized(reason) {
    const fromProvider = Boolean(this.renewer);
    this.endSession();
    // A token that lapsed (a laptop asleep past its renewal): the provider's session
    // may still be good. Once a minute at most, so a refused token cannot loop.
    if (fromProvider && !(Date.now() - this.lastResume < 60000)) {
      this.lastResume = Date.now();
      this.resumeProviderSession();
      return;
    }
    this.showSignin(SIGNIN_REASONS.includes(reason) ? t(`signin.reason.${reason}`) : t('signin.reason.other'));
  }

  /** 4500–4999: the hub said not to come back. The connection is stopped for
   *  good (no timer, no `online` listener) and the token is forgotten, so not
   *  even a reload reconnects with it. */
  onFatal(code, reason) {
    this.endSession();
    this.stopped = { code, reason };
    const texts = STOPPED_REASONS.includes(reason)
      ? Object.fromEntries(['title', 'text', 'help', 'page'].map((f) => [f, t(`stopped.${reason}.${f}`)]))
      : {
          title: t('stopped.other.title'),
          text: t('stopped.other.text', { code: `${code}${reason ? `: ${reason}` : ''}` }),
          help: t('stopped.other.help'),
          page: t('stopped.other.page'),
        };
    showScreen('stopped');
    $('#stopped').dataset.reason = reason || String(code);
    $('#stopped-title').textContent = texts.title;
    $('#stopped-help').textContent = texts.help;
    document.title = `${texts.page} · Dugnad`;
    $('#stopped-title').focus();
    // Filled once shown, so that screen readers announce the alert.
    $('#stopped-text').textContent = '';
    requestAnimationFrame(() => {
      $('#stopped-text').textContent = texts.text;
    });
  }

  /** `signOut`: the person signed out, so the provider's hub session ends too. */
  endSession({ signOut = false } = {}) {
    this.renewer?.stop();
    if (signOut && this.renewer) providerSignOut();
    this.renewer = null;
    if (this.conn) {
      const c = this.conn;
      this.conn = null;
      c.stop();
    }
    clearToken();
    this.channels.clear();
    this.channelOrder = [];
    this.me = null;
    this.view = null;
    this.inbox = new AnnouncementInbox();
    this.reach = new ReachList();
    this.isAdmin = false;
    this.canAnnounce = false;
    $('#nav-dashboard').hidden = true;
    this.membersPanel?.close();
  }

  // ---- static bindings ---------------------------------------------------

  bindStatic() {
    $('#signin-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = tokenFromInput($('#signin-input').value);
      if (!token) {
        $('#signin-reason').hidden = false;
        $('#signin-reason').textContent = t('signin.pasteWhole');
        return;
      }
      $('#signin-input').value = '';
      storeToken(token);
      this.startSession(token);
    });

    $('#signout').addEventListener('click', () => {
      this.outbox.items = [];
      this.outbox.save();
      this.drafts.clear();
      this.endSession({ signOut: true });
      this.showSignin(t('signin.signedOut'));
    });
    $('#signout').prepend(icon(Icons.logout, { size: 16 }));

    // Skip links move focus, not just the scroll position (and keep the URL clean).
    for (const link of document.querySelectorAll('.skip-link')) {
      link.addEventListener('click', (ev) => {
        const target = document.getElementById(link.getAttribute('href').slice(1));
        if (!target) return;
        ev.preventDefault();
        target.focus();
      });
    }

    $('#conn-retry').addEventListener('click', () => this.conn?.reconnectNow());
    $('#stopped-signin').addEventListener('click', () => this.showSignin(null));

    const navToggle = $('#nav-toggle');
    navToggle.prepend(icon(Icons.menu, { size: 20 }));
    navToggle.addEventListener('click', () => this.setNavOpen(!document.body.classList.contains('nav-open')));
    $('#nav-scrim').addEventListener('click', () => this.setNavOpen(false));
    $('#sidebar').addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && document.body.classList.contains('nav-open')) {
        this.setNavOpen(false);
        navToggle.focus();
      }
    });
    // The open phone menu keeps Tab inside: past its last control to ☰, before ☰ to
    // its last control (the rest of the page is inert meanwhile, see setNavOpen).
    document.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Tab' || !document.body.classList.contains('nav-open')) return;
      const controls = [...$('#sidebar').querySelectorAll('button, input, a[href]')].filter((el) => !el.disabled && el.getClientRects().length);
      const last = controls[controls.length - 1];
      if (!ev.shiftKey && document.activeElement === last) {
        ev.preventDefault();
        navToggle.focus();
      } else if (ev.shiftKey && document.activeElement === navToggle && last) {
        ev.preventDefault();
        last.focus();
      }
    });
    NARROW.addEventListener('change', () => {
      this.setNavOpen(false);
      this.invalidate('announcements'); // the banner's default differs between widths
    });

    // Two languages: the switch offers the other one, named in itself.
    $('#lang-switch').addEventListener('click', () => {
      const next = LANGUAGES.find((l) => l.code !== language());
      if (next) setLanguage(next.code);
      $('#lang-switch').focus();
    });
    onLanguageChange(() => this.onLanguageChange());
    this.applyLanguage();

    $('#nav-dashboard').prepend(icon(Icons.chart, { size: 16 }));
    $('#nav-dashboard').addEventListener('click', () => this.showDashboard());
    this.dashboard = new DashboardView(
      {
        root: $('#dashboard-view'),
        title: $('#dashboard-title'),
        period: $('#dashboard-period'),
        status: $('#dashboard-status'),
        error: $('#dashboard-error'),
        content: $('#dashboard-content'),
      },
      {
        getToken: () => this.conn?.token,
        isAdmin: () => this.isAdmin,
        requiresAck: (id) => {
          const a = this.reach.items.get(id)?.announcement || this.inbox.items.get(id)?.announcement;
          return a ? Boolean(a.require_ack) : undefined;
        },
        onDownload: ({ name, text }) => {
          this.lastDownload = { name, text };
          downloadText(name, text);
        },
      },
    );

    $('#nav-announcements').prepend(icon(Icons.megaphone, { size: 16 }));
    $('#nav-announcements').addEventListener('click', () => this.showAnnouncements());

    this.setPresenceOpen(WIDE.matches);
    WIDE.addEventListener('change', () => this.setPresenceOpen(WIDE.matches));
    $('#presence').addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !WIDE.matches) {
        this.setPresenceOpen(false);
        $('#presence-toggle').focus();
      }
    });
    $('#presence-toggle').addEventListener('click', () => this.setPresenceOpen(!document.body.classList.contains('presence-open')));
    $('#presence-close').append(icon(Icons.close, { size: 14 }));
    $('#presence-close').addEventListener('click', () => {
      this.setPresenceOpen(false);
      $('#presence-toggle').focus();
    });

    $('#leave-channel').prepend(icon(Icons.leave, { size: 16 }));
    $('#leave-channel').addEventListener('click', () => this.leaveActive());

    $('#members-open').prepend(icon(Icons.shield, { size: 16 }));
    $('#members-open').addEventListener('click', () => {
      const ch = this.activeChannel;
      if (ch) this.showMembers(ch.name);
    });
    $('#members-back').prepend(icon(Icons.back, { size: 16 }));
    $('#members-back').addEventListener('click', () => this.closeMembers());
    $('#members-view').addEventListener('keydown', (ev) => {
      // Escape leaves the panel, unless it is ending a removal's confirmation.
      if (ev.key === 'Escape' && !ev.defaultPrevented && !ev.target.closest('.member--confirming')) {
        ev.preventDefault();
        this.closeMembers();
      }
    });
    this.membersPanel = new MembersPanel(
      {
        title: $('#members-title'),
        backLabel: $('#members-back-label'),
        form: $('#member-add'),
        input: $('#member-add-id'),
        addButton: $('#member-add-submit'),
        addError: $('#member-add-error'),
        status: $('#members-status'),
        heading: $('#members-list-title'),
        list: $('#members-list'),
        empty: $('#members-empty'),
        more: $('#members-more'),
        error: $('#members-error'),
      },
      { getToken: () => this.conn?.token, getMe: () => this.me },
    );
    $('#notice-continue').addEventListener('click', () => {
      const name = $('#notice-continue').dataset.channel;
      if (name && this.channels.has(name)) this.showChannel(name, { focus: true });
      else $('#join-name').focus();
    });

    $('#nav-browse').prepend(icon(Icons.compass, { size: 16 }));
    $('#nav-browse').addEventListener('click', () => this.showDirectory());
    $('#search-submit').prepend(icon(Icons.search, { size: 16 }));
    this.directory = new DirectoryView(
      {
        form: $('#directory-form'),
        input: $('#directory-query'),
        status: $('#directory-status'),
        error: $('#directory-error'),
        list: $('#directory-list'),
        empty: $('#directory-empty'),
        more: $('#directory-more'),
      },
      {
        request: (fields) => this.requestWhenReady('channels', fields),
        describe: (err) => errorText(err),
        onOpen: (name) => this.showChannel(name, { focus: true }),
        onJoin: async (name, button) => {
          button.disabled = true;
          try {
            await this.joinChannel(name);
            this.directory.markJoined(name);
            this.toast(t('dir.joined', { name }));
            $('#directory-list').querySelector(`[data-channel="${CSS.escape(name)}"] button`)?.focus();
          } catch (err) {
            $('#directory-error').textContent = this.joinErrorText(name, err);
            if (button.isConnected) button.disabled = false;
          }
        },
      },
    );
    this.search = new SearchView(
      {
        form: $('#search-form'),
        input: $('#search-input'),
        heading: $('#search-title'),
        status: $('#search-status'),
        error: $('#search-error'),
        list: $('#search-results'),
        empty: $('#search-empty'),
      },
      {
        request: (fields) => this.requestWhenReady('search', fields),
        describe: (err) => errorText(err),
        onShow: () => this.showSearch(),
        onJump: (hit) => this.jumpTo(hit),
        channelLabel: (name) => (this.channels.has(name) ? channelLabel(this.channels.get(name)) : `#${name}`),
      },
    );

    $('#join-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.joinFromForm();
    });

    $('#composer-send').prepend(icon(Icons.send, { size: 16 }));
    $('#announce-new').prepend(icon(Icons.plus, { size: 16 }));
    $('#announce-new').addEventListener('click', () => this.openAnnounceComposer());

    const select = (name) => {
      this.showChannel(name, { focus: true });
      this.setNavOpen(false);
    };
    this.channelList = new ChannelListView($('#channel-list'), $('#channel-list-empty'), select);
    this.directList = new ChannelListView($('#direct-list'), $('#direct-list-empty'), select);

    this.messages = new MessageListView(
      {
        listEl: $('#message-list'),
        scrollEl: $('#message-scroll'),
        loadOlderBtn: $('#load-older'),
        historyStartEl: $('#history-start'),
        newBelowEl: $('#new-below'),
        jumpBtn: $('#jump-latest'),
      },
      {
        onReply: (m) => this.composer.setReply(m),
        onReact: (m, emoji, remove) => this.react(m, emoji, remove),
        onEdit: (m, body) => this.editMessage(m, body),
        onDelete: (m) => this.deleteMessage(m),
        canDelete: (m) => this.isAdmin || Boolean(this.me && m.from && m.from.id === this.me.id),
        onSeen: (seq) => this.markSeen(seq),
        onLoadOlder: ({ byScroll }) => this.loadOlder(this.activeChannel, { byScroll }),
        onRetry: (item) => {
          item.status = 'queued';
          item.error = null;
          this.sender.queue(item);
          this.invalidate('messages');
        },
        onDiscard: (item) => {
          this.outbox.remove(item.client_id);
          this.invalidate('messages');
        },
      },
    );

    this.notifier = new Notifier(window);
    $('#notify-enable').prepend(icon(Icons.bell, { size: 16 }));
    $('#notify-enable').addEventListener('click', async () => {
      const answer = await this.notifier.ask();
      this.toast(t(answer === 'granted' ? 'notify.on' : 'notify.off'));
      this.invalidate('sidebar');
      $('#nav-browse').focus();
    });
    this.memberCache = new Map(); // channel -> {at, members}: the @ completion's list

    this.composer = new ComposerView(
      {
        form: $('#composer'),
        input: $('#composer-input'),
        send: $('#composer-send'),
        disabledNote: $('#composer-disabled'),
        error: $('#composer-error'),
        replyBox: $('#reply-context'),
        replyText: $('#reply-context-text'),
        replyCancel: $('#reply-cancel'),
        label: $('#composer-label'),
      },
      {
        onSend: (body, replyTo) => this.publish(body, replyTo),
        onTyping: () => {
          const ch = this.activeChannel;
          if (ch) this.conn?.send('typing', { channel: ch.name });
        },
      },
      this.drafts,
    );
    this.completer = new MentionCompleter(
      { form: $('#composer'), input: $('#composer-input'), list: $('#mention-list'), status: $('#mention-status') },
      {
        getMembers: () => this.channelMembers(this.activeChannel),
        me: () => this.me?.id,
        changed: () => this.composer.input.dispatchEvent(new Event('input')),
      },
    );
  }

  /** The members of a channel for the @ completion: asked once a minute at most (the
   *  first 500, by id, which is `members`' largest page). */
  async channelMembers(ch) {
    if (!ch) return [];
    const held = this.memberCache.get(ch.name);
    if (held && Date.now() - held.at < 60000) return held.members;
    const reply = await this.requestWhenReady('members', { channel: ch.name, limit: 500 });
    const members = Array.isArray(reply.members) ? reply.members : [];
    this.memberCache.set(ch.name, { at: Date.now(), members });
    return members;
  }

  /** This user was mentioned (on every connection, subscribed or not): counted once
   *  per message while unread, and a notification when the tab is hidden. */
  onMention(e) {
    const ch = e && this.channels.get(e.channel);
    const m = e && e.message;
    if (!ch || !m || typeof m.seq !== 'number') return;
    if (m.seq <= ch.readSeq || !ch.mentions.add(m.seq)) return;
    this.invalidate('sidebar');
    this.notifier.notify({
      title: t('notify.mention', { name: displayName(m.from), channel: channelLabel(ch) }),
      body: String(m.body ?? '').slice(0, 200),
      tag: `mention-${m.id || m.seq}`,
      onClick: () => this.jumpTo({ channel: ch.name, seq: m.seq }),
    });
  }

  /** Words in the HTML itself, in the chosen language. */
  applyLanguage() {
    applyStatic();
    const next = LANGUAGES.find((l) => l.code !== language());
    const button = $('#lang-switch');
    button.lang = next.code;
    button.dataset.lang = next.code;
    setChildren(button, icon(Icons.globe, { size: 16 }), h('span', { class: 'lang-long' }, next.name), h('span', { class: 'lang-short', 'aria-hidden': 'true' }, next.short));
    for (const label of document.querySelectorAll('#dashboard-period label[data-days]')) {
      const n = Number(label.dataset.days);
      label.textContent = t('dash.days', { n });
    }
  }

  onLanguageChange() {
    this.applyLanguage();
    if (!$('#signin').hidden) this.offerProvider();
    this.messages.redraw();
    if (this.me) {
      this.renderMe();
      this.invalidate('all');
      this.flushRender();
    }
    if (this.view && this.view.kind === 'dashboard') this.dashboard.render();
  }

  setNavOpen(open) {
    const wasOpen = document.body.classList.contains('nav-open');
    document.body.classList.toggle('nav-open', open && NARROW.matches);
    const isOpen = document.body.classList.contains('nav-open');
    $('#nav-toggle').setAttribute('aria-expanded', String(isOpen));
    $('#nav-scrim').hidden = !isOpen;
    // While the phone's channel list covers the page, the rest of it is out of reach
    // (inert): Tab goes round the list and the ☰ button that closes it.
    for (const el of [$('#main'), $('#presence'), ...document.querySelectorAll('.topbar > :not(#nav-toggle)')]) el.inert = isOpen;
    if (isOpen && !wasOpen) $('#sidebar').querySelector('button, input')?.focus();
  }

  setPresenceOpen(open) {
    document.body.classList.toggle('presence-open', open);
    $('#presence-toggle').setAttribute('aria-expanded', String(open));
  }

  // ---- connection state --------------------------------------------------

  onConnState({ state, reconnectAt, code }) {
    const box = $('#conn');
    const text = $('#conn-status');
    const retry = $('#conn-retry');
    clearInterval(this.countdownTimer);
    let label;
    let kind;
    if (state === State.connecting) this.connects += 1;
    if (state === State.ready) {
      kind = 'ready';
      label = t('conn.ready');
      this.everConnected = true;
    } else if (state === State.connecting) {
      kind = this.everConnected ? 'reconnecting' : 'connecting';
      label = this.everConnected ? t('conn.reconnecting') : t('conn.connecting');
    } else if (state === State.waiting) {
      kind = 'reconnecting';
      const tick = () => {
        const secs = Math.max(0, Math.ceil((reconnectAt - Date.now()) / 1000));
        text.textContent = secs > 1 ? t('conn.nextTry', { secs }) : t('conn.reconnecting');
      };
      tick();
      this.countdownTimer = setInterval(tick, 1000);
      label = null;
    } else if (state === State.offline) {
      kind = 'reconnecting';
      label = t('conn.offline');
    } else {
      kind = 'stopped';
      label = code ? t('stopped.other.page') : '';
    }
    if (state !== State.ready) {
      for (const ch of this.channels.values()) ch.joined = false;
      this.invalidate('presence');
    }
    box.dataset.state = kind;
    document.body.dataset.connection = kind;
    if (label !== null) text.textContent = label;
    retry.hidden = !(state === State.waiting || state === State.offline);
    // Now, not at the next frame: the header, the pending messages' status and presence
    // change together, so no moment shows "Connected" beside "Waiting for connection…".
    this.invalidate('messages', 'presence');
    this.flushRender();
  }

  onServerError(e) {
    if (e.code === 'token_expiring' && this.renewer) {
      this.renewer.renew();
    } else if (e.code === 'token_expiring') {
      this.toast(t('toast.expiring'), { sticky: true, kind: 'warn' });
    } else if (e.code === 'rate_limited') {
      this.toast(t('toast.tooFast'), { kind: 'warn' });
    } else {
      console.warn('dugnad: error from hub', e);
    }
  }

  // ---- welcome and (re)joining -------------------------------------------

  onWelcome(w) {
    const firstTime = !this.me;
    this.me = w.user || { id: '?', name: '?' };
    this.roles = Array.isArray(this.me.roles) ? this.me.roles : ['member'];
    this.canAnnounce = this.roles.includes('leader') || this.roles.includes('admin');
    this.isAdmin = this.roles.includes('admin');
    if (this.reach.userId !== this.me.id) {
      this.reach = new ReachList();
      this.reach.userId = this.me.id;
    }
    $('#nav-dashboard').hidden = !this.canAnnounce;
    this.messages.setMe(this.me);
    this.drafts.forUser(this.me.id);
    this.renderMe();

    // Channels: membership is durable, so the welcome is the list. Epochs of
    // channels we already hold stay as they were until the rejoin checks them.
    const listed = Array.isArray(w.channels) ? w.channels : [];
    const names = [];
    this.welcomeRead = new Map();
    for (const info of listed) {
      if (!info || !info.name) continue;
      names.push(info.name);
      this.welcomeRead.set(info.name, info.read_seq ?? 0);
      let ch = this.channels.get(info.name);
      if (!ch) {
        ch = new ChannelState(info);
        this.channels.set(info.name, ch);
        ch.mentions.fromHub(info.unread_mentions, info.last_seq ?? 0);
      } else {
        if (info.epoch === ch.epoch || ch.epoch === null) ch.mentions.fromHub(info.unread_mentions, info.last_seq ?? 0);
        ch.updateInfo(info);
        if (info.epoch === ch.epoch) {
          ch.lastSeq = Math.max(ch.lastSeq, info.last_seq ?? 0);
          ch.readSeq = Math.max(ch.readSeq, info.read_seq ?? 0);
        }
      }
      ch.joined = false;
    }
    for (const name of [...this.channels.keys()]) if (!names.includes(name)) this.channels.delete(name);
    this.channelOrder = names;
    // Unsent messages for channels this user is no longer in cannot be delivered.
    const stale = this.outbox.items.filter((i) => !this.channels.has(i.channel));
    for (const item of stale) this.outbox.remove(item.client_id);

    this.inbox.settleFromWelcome(Array.isArray(w.announcements) ? w.announcements : []);

    const viewGone = this.view && (this.view.kind === 'channel' || this.view.kind === 'members') && !this.channels.has(this.view.name);
    if (this.view && this.view.kind === 'members' && !this.isAdmin) this.closeMembers({ focus: false });
    const dashboardGone = this.view && this.view.kind === 'dashboard' && !this.canAnnounce;
    if (firstTime || !this.view || viewGone || dashboardGone) {
      this.chooseInitialView();
    }
    this.invalidate('all');

    for (const ch of this.channels.values()) this.rejoin(ch);
    if (this.canAnnounce) this.loadReach();
    $('#announce-new').hidden = !this.canAnnounce;
  }

  chooseInitialView() {
    let saved = null;
    try {
      saved = sessionStorage.getItem(ACTIVE_KEY);
    } catch {
      saved = null;
    }
    if (saved === '@announcements') return this.showAnnouncements({ focus: false });
    if (saved === '@dashboard' && this.canAnnounce) return this.showDashboard({ focus: false });
    const name = saved && this.channels.has(saved) ? saved : this.channels.has('general') ? 'general' : this.channelOrder[0];
    if (name) this.showChannel(name, { focus: false });
    else this.showEmpty();
  }

  /** Join (again) with `since`/`epoch` so nothing sent meanwhile is missed. */
  rejoin(ch) {
    const fields = rejoinFields(ch, HISTORY_PAGE);
    const promise = this.conn
      .request('join', fields)
      .then((reply) => this.applyJoin(ch, reply, fields))
      .catch((err) => {
        if (err.code === 'forbidden' || err.code === 'not_found') {
          this.toast(t('removed.other', { name: ch.name }), { kind: 'warn' });
          this.removeChannel(ch.name);
        } else if (err.code === 'rate_limited' || err.code === 'timeout') {
          // Many channels rejoining at once can hit the command rate limit.
          const conn = this.conn;
          setTimeout(() => {
            if (this.conn === conn && conn.isReady && this.channels.get(ch.name) === ch && !ch.joined) this.rejoin(ch);
          }, err.retryAfterMs ?? 1000 + Math.random() * 1000);
        } else if (!['offline', 'disconnected'].includes(err.code)) {
          console.warn(`dugnad: rejoining #${ch.name} failed`, err);
        }
      })
      .finally(() => {
        if (ch.joining === promise) ch.joining = null;
      });
    ch.joining = promise;
    return promise;
  }

  applyJoin(ch, reply, fields) {
    if (this.channels.get(ch.name) !== ch) return;
    const { outcome, fillGap } = applyJoinReply(ch, reply, fields, (c, m) => this.absorb(c, m));
    if (outcome === 'reset') this.toast(t('toast.reset', { name: ch.name }));
    if (fillGap) this.fillGap(ch);
    if (ch === this.activeChannel && !ch.historyLoaded) this.loadInitialHistory(ch);

    // A read position that moved while we were offline has not reached the hub.
    const serverRead = this.welcomeRead?.get(ch.name);
    if (typeof serverRead === 'number' && ch.readSeq > serverRead) this.sendMarkRead(ch);

    this.sender.flush(ch.name);
    this.invalidate('sidebar', 'messages', 'presence');
  }

  async loadInitialHistory(ch) {
    if (ch.historyLoaded || ch.loadingOlder) return;
    if (ch.lowestSeq <= 1) {
      ch.historyLoaded = true;
      ch.hasOlder = false;
      this.invalidate('messages');
      return;
    }
    await this.loadOlder(ch, { initial: true });
  }

  /** A page of earlier messages. From the button, focus goes to the newest of them (the
   *  button itself may go: it leaves when the start is reached); from scrolling, focus
   *  stays where it was. Either way the position on screen is kept. */
  async loadOlder(ch, { initial = false, byScroll = false } = {}) {
    if (!ch || ch.loadingOlder || !this.conn) return;
    const before = ch.lowestSeq;
    const pressed = !initial && !byScroll; // the button, by mouse or keyboard
    const focusOnButton = document.activeElement === $('#load-older');
    const held = ch.order.length;
    if (before <= 1) {
      ch.hasOlder = false;
      ch.historyLoaded = true;
      this.invalidate('messages');
      return;
    }
    ch.loadingOlder = true;
    this.invalidate('messages');
    try {
      const reply = await this.conn.request('history', { channel: ch.name, before, limit: HISTORY_PAGE });
      if (this.channels.get(ch.name) !== ch) return;
      for (const m of reply.messages || []) this.absorb(ch, m);
      ch.hasOlder = Boolean(reply.has_more);
      ch.historyLoaded = true;
      this.olderHint = !initial;
    } catch (err) {
      if (!initial) this.toast(t('toast.olderFailed', { error: errorText(err) }), { kind: 'warn' });
    } finally {
      ch.loadingOlder = false;
      this.invalidate('messages');
    }
    const loaded = ch.order.length - held;
    if (initial || loaded <= 0 || ch !== this.activeChannel) return;
    $('#history-status').textContent = t('messages.olderLoaded', { n: loaded });
    this.flushRender();
    // Focus goes on to the newest of the messages loaded when the button was pressed,
    // or when it held focus and went (the start was reached): never to <body>.
    if (pressed || (focusOnButton && $('#load-older').hidden)) {
      const newest = ch.order.filter((m) => m.seq < before).pop();
      if (!newest || !this.messages.focus.focusSeq(newest.seq)) $('#message-list').focus();
    }
  }

  /** Fetch what is missing between syncedSeq and the newest message held. */
  async fillGap(ch) {
    if (ch.fillingGap || !this.conn) return;
    ch.fillingGap = true;
    try {
      for (let round = 0; round < 20 && ch.hasGap; round += 1) {
        const before = ch.syncedSeq;
        const reply = await this.conn.request('history', { channel: ch.name, after: ch.syncedSeq, limit: 200 });
        for (const m of reply.messages || []) this.absorb(ch, m);
        ch.advanceSynced();
        if (ch.syncedSeq === before) {
          // The hub has nothing for this hole; don't ask forever.
          ch.syncedSeq = ch.highestSeq;
          break;
        }
      }
    } catch (err) {
      console.warn(`dugnad: filling a gap in #${ch.name} failed`, err);
    } finally {
      ch.fillingGap = false;
      this.invalidate('messages', 'sidebar');
    }
  }

  /** Add a message from a reply (join, history, publish). A message of ours
   *  that carries the client_id of an outbox item confirms that item. */
  absorb(ch, m) {
    const added = ch.addMessage({ channel: ch.name, ...m });
    if (m.client_id && this.me && m.from && m.from.id === this.me.id && this.outbox.find(m.client_id)) {
      this.outbox.remove(m.client_id);
    }
    return added;
  }

  // ---- live events -------------------------------------------------------

  onMessage(m) {
    const ch = this.channels.get(m.channel);
    if (!ch) return;
    const { added, gap } = applyLiveMessage(ch, m);
    if (!added) return;
    if (gap && !ch.joining) this.fillGap(ch);
    if (m.from) ch.typing.delete(m.from.id);
    const mine = this.me && m.from && m.from.id === this.me.id;
    if (mine) {
      ch.readSeq = Math.max(ch.readSeq, m.seq);
      if (m.client_id) this.outbox.remove(m.client_id);
      this.mineHint = true;
    }
    this.invalidate('sidebar', 'messages', 'typing');
  }

  onPresenceDiff(e) {
    const ch = this.channels.get(e.channel);
    if (!ch) return;
    const leaves = new Set((e.leaves || []).map((u) => (typeof u === 'string' ? u : u && u.id)));
    ch.presence = ch.presence.filter((u) => !leaves.has(u.id));
    for (const u of e.joins || []) {
      if (u && u.id && !ch.presence.some((p) => p.id === u.id)) ch.presence.push(u);
    }
    if (typeof e.presence_count === 'number') ch.presenceCount = e.presence_count;
    else if (typeof e.count === 'number') ch.presenceCount = e.count;
    else if (ch.presenceMode === 'list') ch.presenceCount = ch.presence.length;
    else ch.presenceCount = Math.max(0, ch.presenceCount + (e.joins || []).length - leaves.size);
    if (ch === this.activeChannel) this.invalidate('presence');
  }

  onTyping(e) {
    const ch = this.channels.get(e.channel);
    if (!ch || !e.user || (this.me && e.user.id === this.me.id)) return;
    ch.typing.set(e.user.id, { name: displayName(e.user), until: Date.now() + TYPING_SHOW_MS });
    if (ch === this.activeChannel) {
      this.invalidate('typing');
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => this.invalidate('typing'), TYPING_SHOW_MS + 50);
    }
  }

  onReaction(e) {
    const ch = this.channels.get(e.channel);
    if (!ch) return;
    if (ch.applyReaction(e) && ch === this.activeChannel) this.invalidate('messages');
  }

  // ---- actions -----------------------------------------------------------

  get activeChannel() {
    return this.view && this.view.kind === 'channel' ? this.channels.get(this.view.name) : null;
  }

  showChannel(name, { focus = false } = {}) {
    const ch = this.channels.get(name);
    if (!ch) return;
    const changed = !this.view || this.view.kind !== 'channel' || this.view.name !== name;
    this.view = { kind: 'channel', name };
    rememberView(name);
    if (changed) {
      this.messages.open(ch);
      this.composer.open(ch);
    }
    if (!ch.historyLoaded && ch.joined) this.loadInitialHistory(ch);
    this.invalidate('all');
    this.flushRender();
    if (focus) {
      if (!NARROW.matches && !$('#composer-input').disabled) $('#composer-input').focus();
      else $('#message-list').focus();
    }
  }

  /** Show one of the page's views (not a channel's) now, the phone's menu closed. */
  switchView(view) {
    this.view = view;
    this.setNavOpen(false);
    this.invalidate('all');
    this.flushRender();
  }

  showAnnouncements({ focus = true } = {}) {
    rememberView('@announcements');
    this.switchView({ kind: 'announcements' });
    if (this.canAnnounce) this.loadReach();
    if (focus) $('#announcements-title').focus();
  }

  /** The engagement dashboard (leaders and admins): fresh figures each time it opens. */
  showDashboard({ focus = true } = {}) {
    if (!this.canAnnounce) return;
    rememberView('@dashboard');
    this.switchView({ kind: 'dashboard' });
    this.dashboard.load();
    if (focus) $('#dashboard-title').focus();
  }

  showEmpty() {
    this.view = { kind: 'empty' };
    this.invalidate('all');
  }

  async joinFromForm() {
    const input = $('#join-name');
    const errorEl = $('#join-error');
    errorEl.textContent = '';
    const name = input.value.trim().replace(/^#/, '').toLowerCase();
    if (!CHANNEL_RE.test(name)) {
      errorEl.textContent = t('join.invalid');
      input.focus();
      return;
    }
    const button = $('#join-form button[type=submit]');
    button.disabled = true;
    try {
      await this.joinChannel(name);
      input.value = '';
      this.showChannel(name, { focus: true });
      this.setNavOpen(false);
    } catch (err) {
      errorEl.textContent = this.joinErrorText(name, err);
      input.focus();
    } finally {
      button.disabled = false;
    }
  }

  /** Join a channel (from the form or the directory): it goes into the sidebar with its
   *  latest page of history. A channel already held needs nothing. Throws the hub's error. */
  async joinChannel(name) {
    if (this.channels.has(name)) return;
    if (!this.conn || !this.conn.isReady) throw Object.assign(new Error(t('error.offline')), { code: 'offline' });
    const ch = new ChannelState({ name, last_seq: 0, read_seq: 0 });
    const fields = { channel: name, history: HISTORY_PAGE };
    const reply = await this.conn.request('join', fields);
    this.channels.set(name, ch);
    if (!this.channelOrder.includes(name)) this.channelOrder.push(name);
    this.applyJoin(ch, reply, fields);
  }

  joinErrorText(name, err) {
    if (err.code === 'forbidden') return t('join.private', { name });
    if (err.code === 'not_found') return t('join.missing', { name });
    if (err.code === 'offline') return t('error.offline');
    return t('join.failed', { name, error: errorText(err) });
  }

  /** A request that needs the connection: refused at once, in words, while offline. */
  requestWhenReady(type, fields) {
    if (!this.conn || !this.conn.isReady) return Promise.reject(Object.assign(new Error(t('error.offline')), { code: 'offline' }));
    return this.conn.request(type, fields);
  }

  /** "Browse channels": the directory, loaded afresh each time it opens. */
  showDirectory({ focus = true } = {}) {
    this.switchView({ kind: 'directory' });
    this.directory.load();
    if (focus) $('#directory-title').focus();
  }

  showSearch() {
    this.switchView({ kind: 'search' });
  }

  /** A search result: open its channel at the message, loading the history between it
   *  and what is held when it is older (a page at a time, so the list stays gapless). */
  async jumpTo(hit) {
    if (!this.channels.has(hit.channel)) {
      try {
        await this.joinChannel(hit.channel);
      } catch (err) {
        this.toast(this.joinErrorText(hit.channel, err), { kind: 'warn' });
        return;
      }
    }
    const ch = this.channels.get(hit.channel);
    this.showChannel(hit.channel);
    if (ch.joining) await ch.joining;
    for (let round = 0; round < JUMP_PAGES && !ch.bySeq.has(hit.seq) && ch.lowestSeq > 1; round += 1) {
      try {
        const reply = await this.conn.request('history', { channel: ch.name, before: ch.lowestSeq, limit: 200 });
        for (const m of reply.messages || []) this.absorb(ch, m);
        ch.hasOlder = Boolean(reply.has_more);
        ch.historyLoaded = true;
        if (!(reply.messages || []).length) break;
      } catch (err) {
        this.toast(t('toast.olderFailed', { error: errorText(err) }), { kind: 'warn' });
        break;
      }
    }
    if (this.activeChannel !== ch) return;
    this.invalidate('messages');
    this.flushRender();
    if (!this.messages.showMessage(hit.seq)) this.toast(t('search.notLoaded', { name: ch.name }), { kind: 'warn' });
  }

  async leaveActive() {
    const ch = this.activeChannel;
    if (!ch || !this.conn) return;
    if (!window.confirm(t('leave.confirm', { name: ch.name }))) return;
    try {
      await this.conn.request('leave', { channel: ch.name, forget: true });
      this.removeChannel(ch.name);
      this.toast(t('leave.done', { name: ch.name }));
      // Not the next channel's Leave button, where focus would otherwise stay: its title.
      this.flushRender();
      (this.activeChannel ? $('#channel-title') : $('#empty-title')).focus();
    } catch (err) {
      this.toast(t('leave.failed', { name: ch.name, error: errorText(err) }), { kind: 'warn' });
    }
  }

  /** The hub ended this user's access to a channel (an admin removed them, or
   *  their sign-in no longer reaches it). The subscription is already gone on
   *  the hub; here the channel leaves the sidebar, what was waiting to be sent
   *  to it is dropped, and the next welcome (which no longer lists it) means
   *  no reconnect tries to join it again. */
  onRemoved(e) {
    const name = e && typeof e.channel === 'string' ? e.channel : null;
    if (!name || !this.channels.has(name)) return;
    const text = REMOVED_REASONS.includes(e.reason) ? t(`removed.text.${e.reason}`, { name }) : t('removed.other', { name });
    const here = this.view && (this.view.kind === 'channel' || this.view.kind === 'members') && this.view.name === name;
    const active = document.activeElement;
    const focusWasInView = !active || active === document.body || $('#channel-view').contains(active) || $('#members-view').contains(active);
    this.forgetChannel(name);
    if (here) {
      if (this.view.kind === 'members') this.membersPanel.close();
      this.showRemovedNotice(name, e.reason, text, { focus: focusWasInView });
    } else {
      this.toast(text, { kind: 'warn' });
    }
    this.invalidate('all');
  }

  showRemovedNotice(name, reason, text, { focus }) {
    this.view = { kind: 'removed', name, reason: reason || null };
    $('#notice-view').dataset.channel = name;
    $('#notice-view').dataset.reason = reason || '';
    $('#notice-title').textContent = t('removed.title', { name });
    $('#notice-help').textContent = REMOVED_REASONS.includes(reason) ? t(`removed.help.${reason}`) : t('removed.help.other');
    const next = this.channels.has('general') ? 'general' : this.channelOrder[0];
    const button = $('#notice-continue');
    button.hidden = false;
    button.dataset.channel = next || '';
    button.textContent = next ? t('removed.goTo', { name: next }) : t('removed.join');
    this.invalidate('all');
    this.flushRender();
    if (focus) $('#notice-title').focus();
    // Filled once shown, so that screen readers announce it as an alert.
    const alertEl = $('#notice-text');
    alertEl.textContent = '';
    requestAnimationFrame(() => {
      if (this.view && this.view.kind === 'removed' && this.view.name === name) alertEl.textContent = text;
    });
  }

  /** Drop every trace of a channel this user is no longer in. */
  forgetChannel(name) {
    this.channels.delete(name);
    this.channelOrder = this.channelOrder.filter((n) => n !== name);
    clearTimeout(this.markReadTimers.get(name));
    this.markReadTimers.delete(name);
    this.sender.forget(name);
    for (const item of this.outbox.forChannel(name)) this.outbox.remove(item.client_id);
    this.welcomeRead?.delete(name);
  }

  showMembers(name) {
    if (!this.isAdmin || !this.channels.has(name)) return;
    this.switchView({ kind: 'members', name });
    $('#members-title').focus();
    this.membersPanel.open(name);
  }

  closeMembers({ focus = true } = {}) {
    const name = this.view && this.view.kind === 'members' ? this.view.name : null;
    this.membersPanel.close();
    if (name && this.channels.has(name)) {
      this.showChannel(name);
      if (focus) $('#members-open').focus();
    } else {
      this.chooseInitialView();
    }
  }

  removeChannel(name) {
    this.channels.delete(name);
    this.channelOrder = this.channelOrder.filter((n) => n !== name);
    if (this.view && (this.view.kind === 'channel' || this.view.kind === 'members') && this.view.name === name) {
      this.membersPanel.close();
      const next = this.channelOrder[0];
      if (next) this.showChannel(next);
      else this.showEmpty();
    }
    this.invalidate('all');
  }

  // ---- publishing (the outbox) ---------------------------------------------

  publish(body, replyTo) {
    const ch = this.activeChannel;
    if (!ch) return false;
    const item = this.outbox.add({ channel: ch.name, body, reply_to: replyTo ? replyTo.id : null });
    this.mineHint = true;
    this.sender.queue(item);
    this.invalidate('messages');
    return true;
  }

  async react(message, emoji, remove) {
    if (!this.conn) return;
    try {
      const fields = { message_id: message.id, emoji };
      if (remove) fields.remove = true;
      await this.conn.request('react', fields);
      const ch = this.channels.get(message.channel) || this.activeChannel;
      if (ch && this.me) {
        ch.applyReaction({ message_id: message.id, emoji, user: this.me, op: remove ? 'remove' : 'add' });
        this.invalidate('messages');
      }
    } catch (err) {
      this.toast(t('toast.reactFailed', { error: errorText(err) }), { kind: 'warn' });
    }
  }

  /** A direct channel was made with this user in it (by them, on any device, or by
   *  someone writing to them): into the sidebar, joined from its first message so
   *  nothing written before this page heard of it is missed. */
  onDirectChannel(e) {
    const info = e && e.channel;
    if (!info || typeof info.name !== 'string') return null;
    let ch = this.channels.get(info.name);
    if (ch) {
      ch.updateInfo(info);
    } else {
      ch = new ChannelState({ ...info, last_seq: 0, read_seq: 0 });
      this.channels.set(info.name, ch);
      this.channelOrder.push(info.name);
      if (this.conn && this.conn.isReady) this.rejoin(ch);
    }
    this.invalidate('sidebar', 'view');
    return ch;
  }

  /** "Message Kari" in the list of people: the direct channel with them (the same one
   *  every time), opened with the message box focused. */
  async startDirect(user) {
    try {
      const reply = await this.requestWhenReady('direct', { users: [user.id] });
      const ch = this.onDirectChannel(reply);
      if (!ch) return;
      this.setPresenceOpen(WIDE.matches);
      this.showChannel(ch.name, { focus: true });
    } catch (err) {
      this.toast(t('direct.failed', { name: displayName(user), error: errorText(err) }), { kind: 'warn' });
    }
  }

  /** `message_edited` / `message_deleted`: `apply(channel)` changes the held message. */
  onMessageChange(e, apply) {
    const ch = e && this.channels.get(e.channel);
    if (ch && apply(ch) && ch === this.activeChannel) this.invalidate('messages');
  }

  /** Throws the hub's refusal in words, for the edit box to show. */
  async editMessage(message, body) {
    if (!this.conn || !this.conn.isReady) throw new Error(t('error.offline'));
    try {
      const reply = await this.conn.request('edit', { message_id: message.id, body });
      const ch = this.channels.get(message.channel);
      if (ch && reply.message && ch.applyEdit(reply.message)) this.invalidate('messages');
    } catch (err) {
      throw new Error(errorText(err));
    }
  }

  async deleteMessage(message) {
    if (!this.conn) return;
    const mine = this.me && message.from && message.from.id === this.me.id;
    if (!window.confirm(t(mine ? 'messages.deleteConfirm' : 'messages.deleteConfirmOther', { author: displayName(message.from) }))) return;
    try {
      await this.conn.request('delete', { message_id: message.id });
      const ch = this.channels.get(message.channel);
      if (ch && ch.applyDelete(message)) this.invalidate('messages');
      this.toast(t('messages.deleted'));
    } catch (err) {
      this.toast(t('messages.deleteFailed', { error: errorText(err) }), { kind: 'warn' });
    }
  }

  // ---- read positions ------------------------------------------------------

  markSeen(seq) {
    const ch = this.activeChannel;
    if (!ch || seq <= ch.readSeq) return; // only forward
    ch.readSeq = Math.min(seq, ch.lastSeq);
    this.invalidate('sidebar');
    clearTimeout(this.markReadTimers.get(ch.name));
    this.markReadTimers.set(
      ch.name,
      setTimeout(() => this.sendMarkRead(ch), 300),
    );
  }

  sendMarkRead(ch) {
    clearTimeout(this.markReadTimers.get(ch.name));
    this.markReadTimers.delete(ch.name);
    if (!this.conn || !this.conn.isReady || !ch.joined) return; // resent after the rejoin
    const seq = ch.readSeq;
    this.conn
      .request('mark_read', { channel: ch.name, seq })
      .then((reply) => {
        if (ch.applyReadPosition(typeof reply.read_seq === 'number' ? reply.read_seq : seq)) this.invalidate('sidebar');
      })
      .catch((err) => {
        if (!['offline', 'disconnected'].includes(err.code)) console.warn('dugnad: mark_read failed', err);
      });
    if (this.welcomeRead) this.welcomeRead.set(ch.name, Math.max(this.welcomeRead.get(ch.name) ?? 0, seq));
  }

  /** Another device (or tab) of this user read further: the same count everywhere. */
  onReadPosition(e) {
    const ch = e && this.channels.get(e.channel);
    if (ch && ch.applyReadPosition(e.read_seq)) this.invalidate('sidebar');
  }

  // ---- announcements -------------------------------------------------------

  /** This user read or acknowledged an announcement on some device: its banner and
   *  badge go here too. Focus that was on the banner's buttons stays in the page. */
  onAnnouncementReceipt(e) {
    if (!e || !this.inbox.applyReceipt(e.id, e.kind)) return;
    const active = document.activeElement;
    const inCard = active?.closest?.(`#announcement-banner [data-announcement-id="${CSS.escape(String(e.id))}"]`);
    this.invalidate('announcements', 'sidebar');
    if (!inCard) return;
    this.flushRender();
    if (!active.isConnected) $('#main').focus();
  }

  onAnnouncement(a) {
    const known = this.inbox.items.has(a.id);
    const entry = this.inbox.receive(a, { reminder: known });
    if (!entry) return;
    if (!known || entry.reminded) {
      const urgent = a.priority === 'urgent';
      if (urgent) {
        this.notifier.notify({
          title: t('notify.urgent', { title: a.title || t('ann.untitled') }),
          body: String(a.body ?? '').slice(0, 200),
          tag: `announcement-${a.id}`,
          onClick: () => this.showAnnouncements(),
        });
      }
      this.toast(t(urgent ? 'toast.urgent' : 'toast.announcement', { title: a.title || '' }), { kind: urgent ? 'urgent' : 'info' });
    }
    this.invalidate('announcements', 'sidebar');
  }

  async ackAnnouncement(entry, kind) {
    if (!this.conn) return;
    const id = entry.announcement.id;
    const focusWasInside = document.activeElement && document.activeElement.closest(`[data-announcement-id="${CSS.escape(id)}"]`);
    try {
      await this.conn.request('ack', { announcement_id: id, kind });
      entry.read = true;
      if (kind === 'ack') entry.acked = true;
      this.invalidate('announcements', 'sidebar');
      this.flushRender();
      if (focusWasInside) {
        const again = document.querySelector(`[data-announcement-id="${CSS.escape(id)}"] button`);
        (again || $('#main')).focus();
      }
    } catch (err) {
      this.toast(t(kind === 'ack' ? 'toast.ackFailed' : 'toast.readFailed', { error: errorText(err) }), { kind: 'warn' });
    }
  }

  openAnnounceComposer() {
    if (!this.canAnnounce) return;
    this.showAnnouncements({ focus: false });
    const slot = $('#announce-composer-slot');
    const clientId = newClientId(); // one per composed announcement: a retry cannot duplicate it
    const close = () => {
      slot.replaceChildren();
      $('#announce-new').hidden = false;
      $('#announce-new').focus();
    };
    const composer = announceComposer({
      // Announcements do not go to direct channels (protocol.md, "Direct channels").
      channels: this.channelOrder.map((n) => this.channels.get(n)).filter((ch) => ch && ch.kind !== 'direct'),
      draft: this.drafts.announcement,
      onDraft: (fields) => {
        this.drafts.announcement = fields;
      },
      confirmText: (fields) => this.announceQuestion(fields),
      onCancel: close,
      onDiscard: () => {
        this.drafts.announcement = null;
        close();
      },
      onSubmit: async (fields) => {
        if (!this.conn) throw new Error(t('error.offline'));
        let reply;
        try {
          reply = await this.conn.request('announce', { ...fields, client_id: clientId });
        } catch (err) {
          throw new Error(errorText(err));
        }
        const a = reply.announcement || { id: reply.id, ...fields, ts: Date.now() };
        this.drafts.announcement = null;
        if (a && a.id) this.reach.addSent(a);
        slot.replaceChildren();
        $('#announce-new').hidden = false;
        this.toast(t('toast.sent'));
        this.invalidate('announcements');
        this.flushRender();
        document.querySelector(`.reach[data-announcement-id="${CSS.escape(a.id)}"] button`)?.focus();
      },
    });
    slot.replaceChildren(composer.form);
    $('#announce-new').hidden = true;
    composer.focus();
  }

  /** An urgent announcement to everyone interrupts everyone: ask first, with how many
   *  people that is. The hub has no head count of the directory for the client, so the
   *  figure is the audience of the newest announcement to everyone this page knows of
   *  (its own, from the reach list, or one it received); without one, the question
   *  says "everyone". */
  announceQuestion(fields) {
    if (fields.priority !== 'urgent' || !fields.audience?.all) return null;
    const n = everyoneAudience([...this.reach.list(), ...this.inbox.all()]);
    return n === null ? t('compose.confirmEveryone') : t('compose.confirmPeople', { n });
  }

  /** The announcements whose reach this user follows, from the hub: a leader's
   *  own, an admin's everyone's (newest first, a page at a time). */
  async loadReach({ more = false } = {}) {
    const reach = this.reach;
    if (!this.conn || !this.conn.isReady || reach.loading) return;
    const fields = { limit: REACH_PAGE };
    if (!this.isAdmin) fields.author = 'me';
    if (more && reach.lastId) fields.before = reach.lastId;
    reach.loading = true;
    reach.error = null;
    this.invalidate('announcements');
    const focusMore = more && document.activeElement === $('#sent-more');
    const before = reach.order.length;
    try {
      const reply = await this.conn.request('announcements', fields);
      if (this.reach !== reach) return;
      const page = Array.isArray(reply.announcements) ? reply.announcements : [];
      reach.addPage(page, reply.has_more, { replace: !more });
    } catch (err) {
      if (this.reach === reach) reach.error = `${t('reach.loadFailed')}: ${errorText(err)}`;
    } finally {
      reach.loading = false;
      this.invalidate('announcements');
    }
    if (focusMore) {
      this.flushRender();
      const first = document.querySelectorAll('#sent-list > li')[before];
      const button = first?.querySelector('button');
      (button || ($('#sent-more').hidden ? $('#sent-title') : $('#sent-more'))).focus();
    }
  }

  /** Show (or hide) who has not read / acknowledged an announcement. */
  async toggleReceipts(entry, state) {
    const r = entry.receipts[state] || (entry.receipts[state] = { open: false, users: [], hasMore: false, loading: false, error: null, loaded: false });
    r.open = !r.open;
    this.invalidate('announcements');
    if (r.open && !r.loaded) await this.loadReceipts(entry, state);
  }

  async loadReceipts(entry, state, { more = false } = {}) {
    const r = entry.receipts[state];
    if (!r || r.loading) return;
    const id = entry.announcement.id;
    r.loading = true;
    r.error = null;
    this.invalidate('announcements');
    const after = more && r.users.length ? r.users[r.users.length - 1].id : null;
    try {
      const page = await listReceipts(this.conn?.token, id, state, { after, limit: RECEIPTS_PAGE });
      r.users = more ? [...r.users, ...page.users.filter((u) => !r.users.some((x) => x.id === u.id))] : page.users;
      r.hasMore = page.hasMore;
      r.loaded = true;
    } catch (err) {
      r.error = apiErrorText(err, { what: t('reach.namesFailed'), forbidden: t('reach.namesForbidden') });
    } finally {
      r.loading = false;
      this.invalidate('announcements');
    }
    if (more) {
      // The button moved on (or went): keep the keyboard in the list.
      this.flushRender();
      const panel = document.getElementById(`receipts-${id}-${state}`);
      const next = panel?.querySelector(`[data-action="receipts-more-${state}"]`) || panel?.querySelector('.receipts-title');
      next?.focus();
    }
  }

  onAnnouncementStats(s) {
    const { type, ...stats } = s;
    if (this.reach.updateStats(s.id || s.announcement_id, stats)) this.invalidate('announcements');
  }

  async remind(entry, button) {
    if (!this.conn) return;
    button.disabled = true;
    try {
      const reply = await this.conn.request('remind', { announcement_id: entry.announcement.id });
      entry.reminded = typeof reply.reminded === 'number' ? reply.reminded : null;
      this.invalidate('announcements');
    } catch (err) {
      this.toast(t('toast.remindFailed', { error: errorText(err) }), { kind: 'warn' });
      button.disabled = false;
    }
  }

  // ---- rendering -----------------------------------------------------------

  invalidate(...parts) {
    for (const p of parts) this.renderQueued.add(p);
    if (this.renderFrame) return;
    this.renderFrame = requestAnimationFrame(() => this.flushRender());
  }

  flushRender() {
    if (this.renderFrame) cancelAnimationFrame(this.renderFrame);
    this.renderFrame = null;
    const q = this.renderQueued;
    if (q.size === 0 || !this.me) return;
    const all = q.has('all');
    this.renderQueued = new Set();
    if (all || q.has('view')) this.renderView();
    if (all || q.has('sidebar')) this.renderSidebar();
    if (all || q.has('messages')) this.renderMessages();
    if (all || q.has('presence')) this.renderPresence();
    if (all || q.has('typing')) this.renderTyping();
    if (all || q.has('announcements')) this.renderAnnouncements();
    if (all || q.has('sidebar') || q.has('announcements')) this.renderTitle();
  }

  renderMe() {
    $('#me-name').textContent = displayName(this.me);
    const av = $('#me-avatar');
    av.textContent = initials(displayName(this.me));
    av.style.setProperty('--avatar-hue', String(avatarHue(this.me.id)));
    const role = this.roles.includes('admin') ? t('role.admin') : this.roles.includes('leader') ? t('role.leader') : null;
    $('#me-role').hidden = !role;
    $('#me-role').textContent = role || '';
  }

  renderView() {
    const kind = this.view ? this.view.kind : 'empty';
    $('#channel-view').hidden = kind !== 'channel';
    $('#announcements-view').hidden = kind !== 'announcements';
    $('#empty-view').hidden = kind !== 'empty';
    $('#members-view').hidden = kind !== 'members';
    $('#notice-view').hidden = kind !== 'removed';
    $('#dashboard-view').hidden = kind !== 'dashboard';
    $('#directory-view').hidden = kind !== 'directory';
    $('#search-view').hidden = kind !== 'search';
    $('#nav-browse').classList.toggle('is-active', kind === 'directory');
    if (kind === 'directory') $('#nav-browse').setAttribute('aria-current', 'page');
    else $('#nav-browse').removeAttribute('aria-current');
    $('#nav-dashboard').classList.toggle('is-active', kind === 'dashboard');
    if (kind === 'dashboard') $('#nav-dashboard').setAttribute('aria-current', 'page');
    else $('#nav-dashboard').removeAttribute('aria-current');
    $('#nav-announcements').classList.toggle('is-active', kind === 'announcements');
    if (kind === 'announcements') $('#nav-announcements').setAttribute('aria-current', 'page');
    else $('#nav-announcements').removeAttribute('aria-current');
    document.body.dataset.view = kind;

    const ch = this.activeChannel;
    if (!ch) return;
    $('#channel-title').textContent = channelLabel(ch);
    // Its people stay: a direct channel cannot be left for good (protocol.md).
    $('#leave-channel').hidden = ch.kind === 'direct';
    const kindText = ['public', 'private', 'announce', 'direct'].includes(ch.kind) ? t(`channel.kind.${ch.kind}`) : t('channel.kind.other');
    const titled = ch.kind !== 'direct' && ch.title && ch.title.toLowerCase() !== ch.name;
    $('#channel-meta').textContent = titled ? `${kindText} · ${ch.title}` : kindText;
    $('#members-open').hidden = !(this.isAdmin && ch.kind === 'private');
    let reason = null;
    if (ch.kind === 'announce' && !this.canAnnounce) {
      reason = t('composer.announceOnly', { name: ch.name });
    }
    this.composer.setAllowed(reason, channelLabel(ch));
  }

  renderSidebar() {
    const list = this.channelOrder.map((n) => this.channels.get(n)).filter(Boolean);
    const v = this.view;
    const active = v && (v.kind === 'channel' || v.kind === 'members') ? v.name : null;
    this.channelList.render(list.filter((ch) => ch.kind !== 'direct'), active);
    this.directList.render(list.filter((ch) => ch.kind === 'direct'), active);
    $('#notify-enable').hidden = !this.notifier.canAsk;
    const n = this.inbox.unreadCount;
    const badge = $('#announcements-badge');
    badge.hidden = n === 0;
    badge.textContent = String(n);
    $('#nav-announcements').setAttribute('aria-label', n ? t('nav.announcementsAttention', { n }) : t('nav.announcements'));
  }

  renderMessages() {
    const ch = this.activeChannel;
    if (!ch) return;
    const pending = this.outbox.forChannel(ch.name);
    const canPost = !(ch.kind === 'announce' && !this.canAnnounce);
    const connected = Boolean(this.conn && this.conn.isReady);
    this.messages.render(ch, pending, { mine: this.mineHint, older: this.olderHint, canPost, connected });
    this.mineHint = false;
    this.olderHint = false;
    const composerNote = $('#composer-hint');
    const offline = !connected;
    composerNote.textContent = offline
      ? t('composer.offline')
      : t('composer.hint');
    composerNote.classList.toggle('hint--warn', offline);
  }

  renderPresence() {
    renderPresence({ countEl: $('#presence-count'), listEl: $('#presence-list'), toggleEl: $('#presence-toggle') }, this.activeChannel, this.me, (user) =>
      this.startDirect(user),
    );
  }

  renderTyping() {
    const ch = this.activeChannel;
    const text = ch ? typingText(ch.typingNames()) : '';
    const el = $('#typing');
    if (el.textContent !== text) el.textContent = text;
  }

  renderAnnouncements() {
    // Cards are rebuilt when figures change; keep keyboard focus where it was.
    const active = document.activeElement;
    const card = active && active.closest ? active.closest('[data-announcement-id]') : null;
    const keep = card && active.dataset.action ? { id: card.dataset.announcementId, action: active.dataset.action, list: card.closest('ul, section')?.id } : null;
    this.renderAnnouncementParts();
    if (keep && !active.isConnected) {
      const sel = `[data-announcement-id="${CSS.escape(keep.id)}"] [data-action="${CSS.escape(keep.action)}"]`;
      const again = (keep.list && document.getElementById(keep.list)?.querySelector(sel)) || document.querySelector(sel);
      if (again) again.focus();
    }
  }

  renderAnnouncementParts() {
    const handlers = {
      onRead: (entry) => this.ackAnnouncement(entry, 'read'),
      onAck: (entry) => this.ackAnnouncement(entry, 'ack'),
      onViewAll: () => this.showAnnouncements(),
    };
    const inAnnouncements = this.view && this.view.kind === 'announcements';
    // Not above the dashboard either: its figures are what that page is for (the badge still counts).
    const noBanner = inAnnouncements || (this.view && this.view.kind === 'dashboard');
    renderBanner($('#announcement-banner'), noBanner ? [] : this.inbox.needingAttention(), handlers, {
      collapsed: this.bannerCollapsed ?? NARROW.matches,
      onToggle: () => {
        this.bannerCollapsed = !(this.bannerCollapsed ?? NARROW.matches);
        this.invalidate('announcements');
        this.flushRender();
        $('#banner-toggle')?.focus();
      },
    });
    if (inAnnouncements) {
      renderFeed($('#announcement-feed'), $('#announcement-feed-empty'), this.inbox.all(), handlers);
      if (this.canAnnounce) {
        renderSent($('#sent-section'), $('#sent-list'), this.reach, {
          me: this.me,
          allAuthors: this.isAdmin,
          onRemind: (entry, button) => this.remind(entry, button),
          onReceipts: (entry, state) => this.toggleReceipts(entry, state),
          onMoreReceipts: (entry, state) => this.loadReceipts(entry, state, { more: true }),
          onMore: () => this.loadReach({ more: true }),
        });
      } else {
        $('#sent-section').hidden = true;
      }
    }
  }

  renderTitle() {
    let unread = 0;
    for (const ch of this.channels.values()) unread += ch.unread;
    const attention = this.inbox.unreadCount;
    const v = this.view;
    const where = this.activeChannel
      ? channelLabel(this.activeChannel)
      : v?.kind === 'announcements'
        ? t('nav.announcements')
        : v?.kind === 'members'
          ? t('members.of', { name: v.name })
          : v?.kind === 'dashboard'
            ? t('dash.title')
            : v?.kind === 'directory'
              ? t('dir.title')
              : v?.kind === 'search'
                ? t('search.title')
                : '';
    const count = unread + attention;
    document.title = `${count ? `(${count}) ` : ''}${where ? `${where} · ` : ''}Dugnad`;
  }

  toast(text, { kind = 'info', sticky = false } = {}) {
    const el = h(
      'div',
      { class: `toast toast--${kind}` },
      h('span', null, text),
      h('button', { type: 'button', class: 'icon-btn icon-btn--sm', 'aria-label': t('toast.dismiss'), onclick: () => el.remove() }, icon(Icons.close, { size: 14 })),
    );
    $('#toasts').append(el);
    while ($('#toasts').childElementCount > 4) $('#toasts').firstElementChild.remove();
    if (!sticky) setTimeout(() => el.remove(), 6000);
  }

  debugState() {
    const channels = {};
    for (const [name, ch] of this.channels) {
      channels[name] = {
        kind: ch.kind,
        epoch: ch.epoch,
        lastSeq: ch.lastSeq,
        readSeq: ch.readSeq,
        serverReadSeq: ch.serverReadSeq || 0,
        syncedSeq: ch.syncedSeq,
        unread: ch.unread,
        seqs: ch.order.map((m) => m.seq),
        presence: ch.presence.map((p) => p.id),
        joined: ch.joined,
      };
    }
    return {
      connection: this.conn ? this.conn.state : this.stopped ? 'stopped' : 'none',
      connects: this.connects,
      reconnectScheduled: Boolean(this.conn && this.conn.reconnectAt),
      lastClose: this.conn ? this.conn.lastClose : null,
      stopped: this.stopped,
      isAdmin: this.isAdmin,
      me: this.me,
      view: this.view,
      channels,
      outbox: this.outbox.items.map((i) => ({ client_id: i.client_id, channel: i.channel, status: i.status })),
      announcements: this.inbox.all().map((e) => ({ id: e.announcement.id, read: e.read, acked: e.acked })),
    };
  }
}

/** The audience of the newest announcement to everyone among reach and inbox entries
 *  (`stats.audience`, else `audience_count`; a received one counts its author too). */
function everyoneAudience(entries) {
  let best = null;
  for (const e of entries) {
    const a = e.announcement;
    if (!a?.audience?.all) continue;
    const mine = Boolean(e.stats) || !('read' in e);
    const size = typeof e.stats?.audience === 'number' ? e.stats.audience : typeof a.audience_count === 'number' ? a.audience_count : null;
    if (size === null || (best && best.ts >= (a.ts || 0))) continue;
    best = { ts: a.ts || 0, n: size + (mine ? 0 : 1) };
  }
  return best ? best.n : null;
}

/** One screen at a time, and one main landmark in the page: the sign-in screen, the
 *  stopped screen or the app's main area is `role="main"` only while it is shown (a
 *  hidden <main> still counted as a second one for axe, and for some screen readers). */
const MAIN_OF = { signin: 'signin', stopped: 'stopped', app: 'main' };
function showScreen(name) {
  for (const screen of Object.keys(MAIN_OF)) {
    $(`#${screen}`).hidden = screen !== name;
    if (screen === name) $(`#${MAIN_OF[screen]}`).setAttribute('role', 'main');
    else $(`#${MAIN_OF[screen]}`).removeAttribute('role');
  }
}

function rememberView(value) {
  try {
    sessionStorage.setItem(ACTIVE_KEY, value);
  } catch {
    /* storage disabled */
  }
}

new App().boot();
