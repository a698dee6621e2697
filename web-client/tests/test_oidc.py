"""Sign-in with the company account (issue 18) against a real OpenID provider on
loopback (oidc_provider.py, Authlib): the whole flow in headless Chromium, and each
refusal over plain HTTP against the real hub (a page that says why, nothing signed in)."""

from __future__ import annotations

import asyncio
import base64
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
import websockets
from selenium.webdriver.common.by import By

from conftest import WAIT_S, HubStartError, hub_binary, open_pages, start_hub, stop_hub
from oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

PROVIDER_NAME = "Testfirma"


@pytest.fixture(scope="module")
def provider():
    the_provider = Provider().start()
    yield the_provider
    the_provider.stop()


def oidc_args(issuer: str) -> list[str]:
    return [
        "--no-default-channel",
        "--oidc-issuer", issuer,
        "--oidc-client-id", CLIENT_ID,
        "--oidc-client-secret", CLIENT_SECRET,
        "--oidc-provider-name", PROVIDER_NAME,
        "--oidc-leader-group", "leaders",
        "--oidc-group-channel", "board-members=board",
        # Every /auth/session asks the provider again, and a rotated key is fetched at
        # once: the tests see group changes and rotations without waiting.
        "--oidc-recheck-interval", "0",
        "--oidc-jwks-refetch-interval", "0",
    ]


@pytest.fixture(scope="module")
def oidc_hub(provider, tmp_path_factory, output_dir):
    try:
        the_hub = start_hub(hub_binary(), tmp_path_factory.mktemp("oidc-hub"), output_dir / "oidc-hub.log", extra_args=oidc_args(provider.issuer))
    except HubStartError as err:
        pytest.fail(str(err))
    provider.redirect_uris = [f"{the_hub.base_url}/auth/callback"]
    the_hub.create_channel("board", "private", "Board")
    yield the_hub
    stop_hub(the_hub)


@pytest.fixture(autouse=True)
def provider_behaves(provider):
    provider.misbehave = None
    yield
    provider.misbehave = None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browserless:
    """A browser's part in the flow, over HTTP: its cookie jar, no redirects followed."""

    def __init__(self, hub):
        self.hub = hub
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, method: str, url: str, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=15) as resp:
                return resp.status, resp.headers, resp.headers.get_all("set-cookie") or [], resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers, err.headers.get_all("set-cookie") or [], err.read().decode()

    def start_login(self) -> str:
        status, headers, _, _ = self.request("GET", f"{self.hub.base_url}/auth/login")
        assert status == 302, status
        return headers["Location"]

    def provider_sign_in(self, authorize_url: str, user="kari", password="kari-pass") -> str:
        """Fills the provider's form; returns the callback URL it redirects to."""
        form = urllib.parse.urlencode({"username": user, "password": password}).encode()
        status, headers, _, body = self.request("POST", authorize_url, form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, (status, body)
        return headers["Location"]

    def callback(self, url: str):
        return self.request("GET", url)

    def session(self, origin: str | None = None):
        headers = {"Origin": origin} if origin else {}
        status, _, _, body = self.request("POST", f"{self.hub.base_url}/auth/session", b"", headers)
        return status, json.loads(body or "null")

    def has_session_cookie(self) -> bool:
        return any(c.name == "dugnad_session" for c in self.jar)

    def sign_in(self, user="kari", password="kari-pass") -> dict:
        status, headers, cookies, body = self.callback(self.provider_sign_in(self.start_login(), user, password))
        assert status == 303, (status, body)
        assert headers["Location"] == "/"
        status, answer = self.session()
        assert status == 200, answer
        return answer


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def refusal_reason(body: str) -> str | None:
    match = re.search(r'data-reason="([a-z_]+)"', body)
    return match.group(1) if match else None


def assert_refused(browser: Browserless, response, reason: str, status: int = 400):
    code, _, cookies, body = response
    assert code == status, (code, body)
    assert refusal_reason(body) == reason, body
    assert "<h1" in body and "Back to sign-in" in body
    assert not any(c.startswith("dugnad_session=") and not c.startswith("dugnad_session=;") for c in cookies)
    assert not browser.has_session_cookie()
    assert browser.session()[0] == 401


# -- the flow over HTTP -------------------------------------------------------------


def test_config_offers_the_provider(oidc_hub, hub):
    assert oidc_hub.http("GET", "/auth/config") == (
        200, {"oidc": True, "provider": PROVIDER_NAME, "login": "/auth/login", "session": False})
    # A hub without a provider says so, and has no sign-in routes.
    assert hub.http("GET", "/auth/config") == (200, {"oidc": False})
    assert hub.http("GET", "/auth/login")[0] == 404


def test_login_redirects_with_pkce_state_and_nonce(oidc_hub, provider):
    browser = Browserless(oidc_hub)
    status, headers, cookies, _ = browser.request("GET", f"{oidc_hub.base_url}/auth/login")
    assert status == 302
    url = urllib.parse.urlsplit(headers["Location"])
    query = urllib.parse.parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert "openid" in query["scope"][0].split()
    assert query["redirect_uri"] == [f"{oidc_hub.base_url}/auth/callback"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32 and query["state"] != query["nonce"]
    (login_cookie,) = cookies
    assert login_cookie.startswith(f"dugnad_login={query['state'][0]};")
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/auth/callback"):
        assert attribute in login_cookie


def test_sign_in_gives_a_session_cookie_and_short_lived_hub_tokens(oidc_hub):
    browser = Browserless(oidc_hub)
    callback_url = browser.provider_sign_in(browser.start_login())
    status, headers, cookies, _ = browser.callback(callback_url)
    assert status == 303 and headers["Location"] == "/"
    session_cookie = next(c for c in cookies if c.startswith("dugnad_session="))
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/auth"):
        assert attribute in session_cookie
    assert "Secure" not in session_cookie  # plain http on loopback; the TLS hub adds it
    status, headers, _, body = browser.request("GET", f"{oidc_hub.base_url}/auth/config")
    assert json.loads(body)["session"] is True
    status, answer = browser.session()
    assert status == 200
    token = claims(answer["token"])
    assert token["sub"] == "kari" and token["name"] == "Kari Nordmann"
    assert token["channels"] == ["board"] and "roles" not in token or token["roles"] == ["member"]
    assert 0 < token["exp"] - token["iat"] <= 300
    assert answer["user"] == {"id": "kari", "name": "Kari Nordmann", "roles": ["member"]}
    # The token works on the WebSocket like any other, and reaches the private channel its groups give.
    assert asyncio.run(join(oidc_hub, answer["token"], "board"))["ok"] is True
    # Nothing of it is in the hub's log.
    log = oidc_hub.log_path.read_text(errors="replace")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(callback_url).query)["code"][0]
    session_id = session_cookie.split(";")[0].split("=", 1)[1]
    for secret in (answer["token"], code, session_id, CLIENT_SECRET):
        assert secret not in log


def test_a_session_token_is_not_handed_to_another_site(oidc_hub):
    browser = Browserless(oidc_hub)
    browser.sign_in()
    assert browser.session(origin="https://evil.example")[0] == 403
    assert browser.session(origin=oidc_hub.base_url)[0] == 200


def test_sign_out_ends_the_session(oidc_hub):
    browser = Browserless(oidc_hub)
    browser.sign_in()
    status, _, cookies, body = browser.request("POST", f"{oidc_hub.base_url}/auth/logout", b"")
    assert status == 200 and json.loads(body)["ok"] is True
    assert any(c.startswith("dugnad_session=;") and "Max-Age=0" in c for c in cookies)
    assert browser.session()[0] == 401


def test_a_group_removed_at_the_provider_removes_access_at_the_next_refresh(oidc_hub, provider):
    provider.users["ola"]["groups"] = ["staff", "board-members"]
    browser = Browserless(oidc_hub)
    first = browser.sign_in(user="ola", password="ola-pass")
    assert claims(first["token"])["channels"] == ["board"]

    async def scenario():
        async with websockets.connect(oidc_hub.ws_url) as ws:
            await ws.send(json.dumps({"type": "auth", "token": first["token"]}))
            await until(ws, lambda e: e["type"] == "welcome")
            await ws.send(json.dumps({"type": "join", "channel": "board", "ref": 1}))
            assert (await until(ws, lambda e: e.get("ref") == 1))["ok"] is True
            provider.users["ola"]["groups"] = ["staff"]
            status, fresh = browser.session()  # what the page's refresh timer does
            assert status == 200 and "channels" not in claims(fresh["token"])
            await ws.send(json.dumps({"type": "refresh", "token": fresh["token"], "ref": 2}))
            removed = await until(ws, lambda e: e["type"] == "removed")
            assert removed["channel"] == "board"
            await ws.send(json.dumps({"type": "join", "channel": "board", "ref": 3}))
            assert (await until(ws, lambda e: e.get("ref") == 3))["error"]["code"] == "forbidden"

    asyncio.run(scenario())


def test_a_person_removed_at_the_provider_is_signed_out_at_the_next_refresh(oidc_hub, provider):
    provider.users["gone"] = {"password": "gone-pass", "name": "Leaving Soon", "groups": []}
    browser = Browserless(oidc_hub)
    browser.sign_in(user="gone", password="gone-pass")
    del provider.users["gone"]
    assert browser.session()[0] == 401
    assert browser.session()[0] == 401


def test_a_rotated_signing_key_is_fetched_and_used(oidc_hub, provider):
    Browserless(oidc_hub).sign_in()
    before = provider.jwks_requests
    provider.rotate_keys()
    answer = Browserless(oidc_hub).sign_in()
    assert claims(answer["token"])["sub"] == "kari"
    assert provider.jwks_requests == before + 1


# -- refusals ------------------------------------------------------------------------


def test_a_wrong_state_is_refused(oidc_hub):
    browser = Browserless(oidc_hub)
    callback_url = browser.provider_sign_in(browser.start_login())
    tampered = re.sub(r"state=[^&]+", "state=made-up-state", callback_url)
    assert_refused(browser, browser.callback(tampered), "bad_state")


def test_a_callback_opened_in_another_browser_is_refused(oidc_hub):
    victim, attacker = Browserless(oidc_hub), Browserless(oidc_hub)
    # The attacker's own login, its callback URL sent to the victim (login CSRF).
    callback_url = attacker.provider_sign_in(attacker.start_login(), "ola", "ola-pass")
    assert_refused(victim, victim.callback(callback_url), "bad_state")


def test_a_replayed_code_is_refused(oidc_hub):
    browser = Browserless(oidc_hub)
    callback_url = browser.provider_sign_in(browser.start_login())
    assert browser.callback(callback_url)[0] == 303
    # The same callback again: its state is spent.
    again = Browserless(oidc_hub)
    again.jar = browser.jar
    again.opener = browser.opener
    code, _, _, body = again.callback(callback_url)
    assert code == 400 and refusal_reason(body) == "bad_state"
    # The spent code under a fresh login's state: the provider refuses it.
    fresh = Browserless(oidc_hub)
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(fresh.start_login()).query)["state"][0]
    spent_code = urllib.parse.parse_qs(urllib.parse.urlsplit(callback_url).query)["code"][0]
    replay = f"{oidc_hub.base_url}/auth/callback?" + urllib.parse.urlencode({"code": spent_code, "state": state})
    assert_refused(fresh, fresh.callback(replay), "code_refused")


@pytest.mark.parametrize(
    ("misbehaviour", "reason"),
    [("wrong_audience", "bad_id_token"), ("expired", "expired_id_token"), ("bad_nonce", "bad_nonce")],
)
def test_an_id_token_that_fails_a_check_is_refused(oidc_hub, provider, misbehaviour, reason):
    browser = Browserless(oidc_hub)
    callback_url = browser.provider_sign_in(browser.start_login())
    provider.misbehave = misbehaviour
    assert_refused(browser, browser.callback(callback_url), reason)


def test_an_error_from_the_provider_is_refused(oidc_hub):
    browser = Browserless(oidc_hub)
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(browser.start_login()).query)["state"][0]
    denied = f"{oidc_hub.base_url}/auth/callback?" + urllib.parse.urlencode({"error": "access_denied", "state": state})
    assert_refused(browser, browser.callback(denied), "provider_error")


def test_an_unreachable_provider_is_a_clear_page(tmp_path_factory, output_dir):
    dead = Provider().start()
    issuer = dead.issuer
    dead.stop()  # nothing listens at its address any more
    try:
        the_hub = start_hub(hub_binary(), tmp_path_factory.mktemp("oidc-dead"), output_dir / "oidc-dead-hub.log", extra_args=oidc_args(issuer))
    except HubStartError as err:
        pytest.fail(str(err))
    try:
        # The hub starts and serves tokens all the same; only sign-in through the provider waits.
        assert the_hub.http("GET", "/readyz")[0] == 200
        browser = Browserless(the_hub)
        response = browser.request("GET", f"{the_hub.base_url}/auth/login", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
        code, _, _, body = response
        assert code == 502 and refusal_reason(body) == "provider_unreachable"
        assert "Identitetsleverandøren svarer ikke" in body and 'lang="nb"' in body
    finally:
        stop_hub(the_hub)


# -- in the browser ------------------------------------------------------------------


@pytest.fixture
def oidc_browser(oidc_hub, output_dir):
    yield from open_pages(oidc_hub, output_dir)


def test_sign_in_with_the_company_account_in_the_browser(oidc_hub, provider, oidc_browser):
    norsk = oidc_browser("oidc-nb", lang="nb-NO")
    norsk.d.get(oidc_hub.base_url + "/")
    button = norsk.wait(lambda: visible(norsk, "signin-oidc-link"), "no provider button in bokmål")
    assert button.text == f"Logg inn med {PROVIDER_NAME}"

    page = oidc_browser("oidc")
    page.d.get(oidc_hub.base_url + "/")
    button = page.wait(lambda: visible(page, "signin-oidc-link"), "no provider button on the sign-in screen")
    assert button.text == f"Sign in with {PROVIDER_NAME}"
    page.screenshot("oidc-sign-in")
    button.click()
    page.wait(lambda: page.d.current_url.startswith(provider.issuer), "not sent to the provider")
    page.d.find_element(By.ID, "username").send_keys("kari")
    page.d.find_element(By.ID, "password").send_keys("kari-pass")
    page.d.find_element(By.ID, "submit").click()
    # Until the redirects end, the provider's page has no connection state to read.
    page.wait(
        lambda: page.js("const c = document.getElementById('conn'); return c ? c.dataset.state : null") == "ready",
        "never connected after the provider's form",
    )
    assert page.d.current_url == oidc_hub.base_url + "/"  # no token, no code in the address bar
    assert page.state()["me"]["id"] == "kari"
    page.join("oidc-lunch")
    page.send("Signed in with the company account")
    page.wait(lambda: "Signed in with the company account" in page.bodies(), "the message did not arrive")
    # The page holds no cookie it could read: the session id is HttpOnly.
    assert "dugnad_session" not in page.js("return document.cookie")
    # Kari's groups give the private channel 'board'; a group taken away at the provider
    # takes it away at the page's next token renewal, on the same connection.
    page.join("board")
    provider.users["kari"]["groups"] = ["staff"]
    try:
        page.js("window.__dugnad.renewToken()")
        page.wait(lambda: "board" not in page.state()["channels"], "the channel stayed after its group was removed")
        assert page.state()["connects"] == 1 and page.connection() == "ready"
    finally:
        provider.users["kari"]["groups"] = ["staff", "board-members"]
    page.d.find_element(By.ID, "signout").click()
    page.wait(lambda: visible(page, "signin-oidc-link"), "sign-out did not show the sign-in screen")
    page.d.get(oidc_hub.base_url + "/")
    page.wait(lambda: visible(page, "signin-oidc-link"), "signed in again after signing out")
    assert page.js_errors() == []


def visible(page, element_id: str):
    found = page.d.find_elements(By.ID, element_id)
    return found[0] if found and found[0].is_displayed() else None


async def join(hub, token: str, channel: str) -> dict:
    async with websockets.connect(hub.ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await until(ws, lambda e: e["type"] == "welcome")
        await ws.send(json.dumps({"type": "join", "channel": channel, "ref": 1}))
        return await until(ws, lambda e: e.get("ref") == 1)


async def until(ws, predicate, timeout: float = WAIT_S) -> dict:
    async def read():
        while True:
            event = json.loads(await ws.recv())
            if predicate(event):
                return event

    return await asyncio.wait_for(read(), timeout)
