#!/usr/bin/env python3
"""Retakes the web client's screenshots in docs/images/ from realistic content.

    DUGNAD_BIN=$PWD/.build/debug/dugnad .venv-test/bin/python web-client/tests/screenshots.py

It starts a throwaway hub exactly as the browser tests do (conftest.start_hub), seeds a
small Norwegian workplace over the real WebSocket and HTTP API, opens headless Chromium
and saves:

  main-view.png      #general as Kari Nordmann sees it: a conversation about lunch after
                     the staff meeting, an urgent announcement to acknowledge, who is online
  phone-channel.png  #general on a phone (390 x 844) as Kari sees it: two announcements
                     waiting, collapsed to one line (the urgent one), and the actions of
                     a message she tapped
  phone-banner.png   the same with the banner opened
  phone-menu.png     the channel list behind ☰
  members-panel.png  the admin's Members panel of the private channel #ledergruppe, just
                     after adding a new member
  dashboard-nb.png   the engagement dashboard in bokmål, as the leader Kari Nordmann sees
                     it in the company `dugnad demo` makes (a second hub, seeded with it)
  directory.png      Browse channels in the demo company, as Ola Hansen sees it
  search.png         the results of searching "møte" there (a prefix: møtet, møterommet), as Ola sees them

`--out DIR` writes elsewhere (default: docs/images). Not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from conftest import REPO, HubStartError, hub_binary, new_driver, start_hub, stop_hub  # noqa: E402

WIDTH, HEIGHT = 1280, 920  # the page's viewport, which is what a screenshot holds
WAIT_S = 30


class Person:
    """One user's WebSocket connection, kept open (and drained) so they show as online."""

    def __init__(self, hub, stack: contextlib.ExitStack, user_id: str, name: str, roles: tuple[str, ...] = ()):
        self.id = user_id
        self.name = name
        self.token = hub.token(user_id, name, roles=list(roles))
        self.ws = stack.enter_context(connect(hub.ws_url, subprotocols=["dugnad.v1"], open_timeout=10))
        self.ws.send(json.dumps({"type": "auth", "token": self.token}))
        while json.loads(self.ws.recv(timeout=10)).get("type") != "welcome":
            pass
        self._refs = itertools.count(1)
        self._drain = None

    def request(self, type_: str, **fields) -> dict:
        """Send a command and return its reply; waits out `rate_limited` and tries again."""
        assert self._drain is None, "requests are made before draining starts"
        while True:
            ref = next(self._refs)
            self.ws.send(json.dumps({"type": type_, "ref": ref, **fields}))
            while True:
                frame = json.loads(self.ws.recv(timeout=10))
                if frame.get("type") == "reply" and frame.get("ref") == ref:
                    break
            if frame.get("ok"):
                return frame
            error = frame.get("error") or {}
            if error.get("code") != "rate_limited":
                raise RuntimeError(f"{self.name}: {type_} failed: {error}")
            time.sleep(error.get("retry_after_ms", 300) / 1000)

    def say(self, channel: str, body: str, **fields) -> dict:
        return self.request("publish", channel=channel, body=body, **fields)["message"]

    def stay_online(self):
        """Read (and drop) events from now on, so that the hub's pings are answered."""

        def drain():
            try:
                while True:
                    self.ws.recv()
            except ConnectionClosed:
                pass

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()

    def send(self, type_: str, **fields):
        self.ws.send(json.dumps({"type": type_, **fields}))

    def close(self):
        self.ws.close()


def wait(driver, condition, what: str):
    WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(lambda _: condition(), f"screenshot: {what}")


def admin_call(hub, token: str, method: str, path: str, body=None, expect=(200, 201, 204)):
    status, answer = hub.http(method, path, token, body)
    if status not in expect:
        raise RuntimeError(f"{method} {path} answered {status}: {answer}")
    return answer


def browser():
    """Chromium whose viewport (not window) is WIDTH x HEIGHT."""
    driver = new_driver(WIDTH, HEIGHT)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(WIDTH + (WIDTH - inner[0]), HEIGHT + (HEIGHT - inner[1]))
    return driver


def quiet_page(driver):
    """No toasts, no focus ring, no caret: what a person glancing at the screen would see."""
    driver.execute_script(
        "document.getElementById('toasts').replaceChildren();"
        "if (document.activeElement) document.activeElement.blur();"
    )


def seed_and_shoot(hub, out: pathlib.Path):
    with contextlib.ExitStack() as stack:
        shoot(hub, stack, out)


def shoot(hub, stack: contextlib.ExitStack, out: pathlib.Path):
    # -- people and channels ------------------------------------------------------------
    ingrid = Person(hub, stack, "ingrid.berg", "Ingrid Berg", ("leader", "admin"))
    kari = Person(hub, stack, "kari.nordmann", "Kari Nordmann")
    ola = Person(hub, stack, "ola.hansen", "Ola Hansen")
    per = Person(hub, stack, "per.olsen", "Per Olsen")
    sofie = Person(hub, stack, "sofie.lien", "Sofie Lien")
    lars = Person(hub, stack, "lars.moe", "Lars Moe")
    everyone = [ingrid, kari, ola, per, sofie, lars]

    # Channels are made by an admin (the hub makes none for an admin's join).
    for name, kind, title in (
        ("general", "public", "General"),
        ("kantine", "public", "Kantina"),
        ("prosjekt-nordlys", "public", "Prosjekt Nordlys"),
        ("ledergruppe", "private", "Ledergruppen"),
    ):
        admin_call(hub, ingrid.token, "POST", "/api/v1/channels", {"name": name, "kind": kind, "title": title})
    # The directory knows a new hire who has not signed in yet.
    admin_call(hub, ingrid.token, "POST", "/api/v1/users", {"users": [{"id": "jonas.dahl", "name": "Jonas Dahl", "roles": ["member"]}]})

    for person in everyone:
        person.request("join", channel="general", history=1)
    for person in (kari, ola, sofie):
        person.request("join", channel="kantine", history=1)
    for person in (kari, per, sofie):
        person.request("join", channel="prosjekt-nordlys", history=1)

    # -- #general: a staff meeting and lunch after it --------------------------------------
    ingrid.say("general", "God morgen! Husk personalmøtet i dag kl. 14:00 i Fjordrommet.")
    ola.say("general", "Takk, Ingrid! Skal vi bestille lunsj til etter møtet?")
    kari.say("general", "Gjerne det. Jeg kan bestille smørbrød fra bakeriet på hjørnet – hvor mange blir vi?")
    ingrid.say("general", "Vi er tolv. Per og Sofie er med på video fra Bergen-kontoret.")
    per.say("general", "Stemmer 👋 Vi kobler oss på fem på to.")
    lactose = ola.say("general", "Jeg tåler ikke laktose, ellers spiser jeg alt 😊")
    done = kari.say("general", "Notert! Bestillingen er sendt, levering kl. 13:45 i kantina.", reply_to=lactose["id"])

    # Unread elsewhere, for the sidebar.
    ola.say("kantine", "Det er kanelboller på kjøkkenet i 3. etasje!")
    sofie.say("kantine", "Takk for tipset 😄")
    sofie.say("prosjekt-nordlys", "Oppdatert fremdriftsplan er lagt i prosjektmappen.")

    # -- the announcement everyone must acknowledge ----------------------------------------
    ingrid.request(
        "announce",
        title="Brannøvelse torsdag 10:00",
        body="Alarmen går kl. 10:00. Gå ut via nærmeste nødutgang og møt på parkeringen. Ikke bruk heisen.",
        audience={"all": True},
        priority="urgent",
        require_ack=True,
    )

    # Lars was here earlier today; the others stay online.
    lars.close()
    kari.close()  # the browser below is Kari's
    for person in (ingrid, ola, per, sofie):
        person.stay_online()

    # -- main-view.png: Kari's browser --------------------------------------------------------
    driver = browser()
    try:
        driver.get(hub.sign_in_url(kari.token))
        state = lambda: driver.execute_script("return window.__dugnad && window.__dugnad.state()") or {}  # noqa: E731
        wait(driver, lambda: state().get("connection") == "ready", "Kari did not connect")
        wait(driver, lambda: (state().get("view") or {}).get("name") == "general", "#general not open")
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#message-list .msg:not(.msg--pending)")) >= 6, "messages not shown")
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#presence-list .presence-item")) == 5, "five people not online")
        wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#announcement-banner .announcement--urgent"), "no announcement banner")
        # Reactions come live: the hub's history does not carry them.
        ingrid.send("react", message_id=done["id"], emoji="👍")
        ola.send("react", message_id=done["id"], emoji="👍")
        ola.send("react", message_id=done["id"], emoji="🎉")
        wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, ".reaction[data-emoji='🎉']"), "reactions not shown")
        wait(driver, lambda: driver.execute_script(
            "const b = document.querySelector(\"#channel-list [data-channel='kantine'] .badge\"); return b && !b.hidden"), "no unread badge")
        ola.send("typing", channel="general")
        wait(driver, lambda: driver.find_element(By.ID, "typing").text == "Ola Hansen is typing…", "no typing indicator")
        quiet_page(driver)
        driver.execute_script("const s = document.getElementById('message-scroll'); s.scrollTop = s.scrollHeight;")
        driver.save_screenshot(str(out / "main-view.png"))
    finally:
        driver.quit()

    # -- phone-*.png: Kari's phone, with a second announcement waiting -------------------------
    ingrid_phone = Person(hub, stack, ingrid.id, ingrid.name, ("leader", "admin"))
    ingrid_phone.request(
        "announce",
        title="Ny kantinemeny fra mandag",
        body="Kantina serverer varm lunsj hver dag fra 11:00 til 13:00. Menyen henger ved inngangen.",
        audience={"all": True},
        priority="important",
        require_ack=False,
    )
    ingrid_phone.close()
    shoot_phone(hub, kari, done, out)

    # -- members-panel.png: Ingrid (admin) manages #ledergruppe --------------------------------
    for person in (kari, per, sofie, lars):
        admin_call(hub, ingrid.token, "PUT", f"/api/v1/channels/ledergruppe/members/{person.id}")
    driver = browser()
    try:
        driver.get(hub.sign_in_url(ingrid.token))
        state = lambda: driver.execute_script("return window.__dugnad && window.__dugnad.state()") or {}  # noqa: E731
        wait(driver, lambda: state().get("connection") == "ready", "Ingrid did not connect")
        field = driver.find_element(By.ID, "join-name")
        field.send_keys("ledergruppe", Keys.ENTER)
        wait(driver, lambda: (state().get("channels") or {}).get("ledergruppe", {}).get("joined"), "#ledergruppe not joined")
        driver.find_element(By.ID, "members-open").click()
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#members-list .member")) == 5, "members not listed")
        box = driver.find_element(By.ID, "member-add-id")
        box.send_keys("jonas.dahl", Keys.ENTER)
        wait(driver, lambda: "Added Jonas Dahl" in driver.find_element(By.ID, "members-status").text, "Jonas not added")
        quiet_page(driver)
        driver.save_screenshot(str(out / "members-panel.png"))
    finally:
        driver.quit()


def shoot_phone(hub, kari: Person, tapped: dict, out: pathlib.Path):
    driver = new_driver(390, 844)  # a phone: conftest emulates one below 500 px
    try:
        driver.get(hub.sign_in_url(kari.token))
        state = lambda: driver.execute_script("return window.__dugnad && window.__dugnad.state()") or {}  # noqa: E731
        wait(driver, lambda: state().get("connection") == "ready", "Kari's phone did not connect")
        wait(driver, lambda: (state().get("view") or {}).get("name") == "general", "#general not open on the phone")
        wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#announcement-banner .announcement--line.announcement--urgent"), "no one-line banner")
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#message-list .msg:not(.msg--pending)")) >= 6, "messages not shown on the phone")
        driver.execute_script("const s = document.getElementById('message-scroll'); s.scrollTop = s.scrollHeight;")
        driver.find_element(By.CSS_SELECTOR, f"#message-list .msg[data-id='{tapped['id']}'] .msg-body").click()
        quiet_page(driver)
        driver.save_screenshot(str(out / "phone-channel.png"))
        driver.find_element(By.ID, "banner-toggle").click()
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#announcement-banner .announcement:not(.announcement--line)")) == 2, "banner did not open")
        quiet_page(driver)
        driver.execute_script("document.getElementById('announcement-banner').scrollTop = 0")
        driver.save_screenshot(str(out / "phone-banner.png"))
        driver.find_element(By.ID, "banner-toggle").click()
        driver.find_element(By.ID, "nav-toggle").click()
        wait(driver, lambda: driver.execute_script("return document.getElementById('sidebar').getBoundingClientRect().left") >= 0, "menu did not open")
        quiet_page(driver)
        driver.save_screenshot(str(out / "phone-menu.png"))
    finally:
        driver.quit()


def shoot_dashboard(hub, out: pathlib.Path):
    """dashboard-nb.png: Kari Nordmann (a leader of the demo company) in bokmål."""
    token = hub.token("kari.nordmann", "Kari Nordmann", roles=["leader"])
    driver = new_driver(WIDTH, 1500)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(WIDTH + (WIDTH - inner[0]), 1500 + (1500 - inner[1]))
    try:
        driver.get(hub.sign_in_url(token))
        state = lambda: driver.execute_script("return window.__dugnad && window.__dugnad.state()") or {}  # noqa: E731
        wait(driver, lambda: state().get("connection") == "ready", "Kari did not connect")
        if driver.find_element(By.ID, "lang-switch").get_attribute("data-lang") == "nb":
            driver.find_element(By.ID, "lang-switch").click()
        wait(driver, lambda: driver.execute_script("return document.documentElement.lang") == "nb", "not in bokmål")
        driver.find_element(By.ID, "nav-dashboard").click()
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#dash-goals .goal")) == 5, "goals not shown")
        wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#dash-active .bar-rect"), "no chart of active people")
        wait(driver, lambda: driver.find_element(By.ID, "dashboard-content").get_attribute("aria-busy") == "false", "still loading")
        quiet_page(driver)
        driver.save_screenshot(str(out / "dashboard-nb.png"))
    finally:
        driver.quit()


def shoot_directory_and_search(hub, out: pathlib.Path):
    """directory.png and search.png: Ola Hansen (a member of the demo company), in English."""
    token = hub.token("ola.hansen", "Ola Hansen")
    driver = new_driver(WIDTH, HEIGHT)
    try:
        driver.get(hub.sign_in_url(token))
        state = lambda: driver.execute_script("return window.__dugnad && window.__dugnad.state()") or {}  # noqa: E731
        wait(driver, lambda: state().get("connection") == "ready", "Ola did not connect")
        driver.find_element(By.ID, "nav-browse").click()
        wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#directory-list .dir-entry")) >= 5, "the directory did not load")
        quiet_page(driver)
        driver.save_screenshot(str(out / "directory.png"))
        box = driver.find_element(By.ID, "search-input")
        box.send_keys("møte", Keys.ENTER)
        wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#search-results .hit mark"), "no search results")
        ActionChains(driver).move_to_element(driver.find_element(By.ID, "search-title")).perform()  # no hover left on a button
        quiet_page(driver)
        driver.save_screenshot(str(out / "search.png"))
    finally:
        driver.quit()


def demo_and_shoot(tmp_path: pathlib.Path, out: pathlib.Path) -> int:
    """A hub of its own with the company `dugnad demo` makes, for the dashboard."""
    data_dir = tmp_path / "demo"
    seeded = subprocess.run([str(hub_binary()), "demo", "--data-dir", str(data_dir)], capture_output=True, text=True, timeout=600)
    if seeded.returncode != 0:
        print(f"dugnad demo failed: {seeded.stderr.strip()}", file=sys.stderr)
        return 1
    try:
        hub = start_hub(hub_binary(), data_dir, tmp_path / "hub-demo.log")
    except HubStartError as err:
        print(err, file=sys.stderr)
        return 1
    try:
        shoot_dashboard(hub, out)
        shoot_directory_and_search(hub, out)
    except Exception:
        print(hub.log_tail(), file=sys.stderr)
        raise
    finally:
        stop_hub(hub)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=REPO / "docs" / "images", help="folder for the PNGs (default: docs/images)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dugnad-screenshots-") as tmp:
        tmp_path = pathlib.Path(tmp)
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        try:
            # The seed makes its channels itself (serve would make `general` first).
            hub = start_hub(hub_binary(), data_dir, tmp_path / "hub.log", extra_args=["--no-default-channel"])
        except HubStartError as err:
            print(err, file=sys.stderr)
            return 1
        try:
            seed_and_shoot(hub, args.out)
        except Exception:
            print(hub.log_tail(), file=sys.stderr)
            raise
        finally:
            stop_hub(hub)
        if demo_and_shoot(tmp_path, args.out) != 0:
            return 1
    for name in ("main-view.png", "phone-channel.png", "phone-banner.png", "phone-menu.png", "members-panel.png", "dashboard-nb.png", "directory.png", "search.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
