"""Browser tests: real headless Chromium against the real hub.

Each test uses its own users (ids unique to the run); channels other than
`general` are unique to the test, so tests do not see each other's traffic.
"""

from __future__ import annotations

import asyncio

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

XSS_BODY = "<img src=x onerror=alert(1)><b>bold</b>"


def unique(hub, prefix: str) -> str:
    return f"{prefix}-{hub.run_id}"


def no_alert(page) -> bool:
    try:
        page.d.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


# ---- sign-in -------------------------------------------------------------------


def test_without_a_token_the_sign_in_page_explains_how_to_get_one(hub, browser):
    page = browser("anonymous")
    page.d.get(hub.base_url + "/")
    page.wait(lambda: page.d.find_element(By.ID, "signin").is_displayed(), "sign-in page not shown")
    text = page.d.find_element(By.ID, "signin").text
    assert "dugnad token --sub ID --name NAME" in text
    assert "dugnad serve" in text
    assert not page.d.find_element(By.ID, "app").is_displayed()
    page.screenshot("01-sign-in")
    assert page.js_errors() == []


def test_a_bad_token_closes_with_4001_and_shows_the_sign_in_page(hub, browser):
    page = browser("badtoken")
    page.d.get(hub.base_url + "/#token=not.a.valid-token")
    page.wait(lambda: page.d.find_element(By.ID, "signin").is_displayed(), "sign-in page not shown after 4001")
    reason = page.d.find_element(By.ID, "signin-reason")
    page.wait(lambda: reason.is_displayed() and reason.text, "no reason shown")
    assert "token" not in page.d.current_url
    assert page.js("return sessionStorage.getItem('dugnad.token')") is None, "a refused token must be forgotten"
    page.screenshot("02-sign-in-refused")


def test_an_expiring_token_warns_then_returns_to_the_sign_in_page(hub, browser):
    page = browser("expiring")
    token = hub.token(hub.user_id("eva"), "Eva Utløper", ttl="14s")
    page.d.get(hub.sign_in_url(token))
    page.wait_connected()
    toasts = page.d.find_element(By.ID, "toasts")
    page.wait(lambda: "about to end" in toasts.text, "no warning before the token expires", timeout=15)
    signin = page.d.find_element(By.ID, "signin")
    page.wait(lambda: signin.is_displayed(), "not back at sign-in when the token expired (4001)", timeout=20)
    assert "expired" in page.d.find_element(By.ID, "signin-reason").text
    assert page.js("return sessionStorage.getItem('dugnad.token')") is None


# ---- chat ------------------------------------------------------------------------


def test_two_users_see_each_other_and_chat_both_ways(hub, browser):
    ola = browser("ola").sign_in("Ola Nordmann")
    kari = browser("kari").sign_in("Kari Hansen")

    # The token is kept for the tab but gone from the address bar.
    assert "token" not in ola.d.current_url
    assert ola.js("return sessionStorage.getItem('dugnad.token')") == ola.user["token"]

    assert ola.d.find_element(By.ID, "empty-view").is_displayed(), "a new user should see the welcome view"
    ola.screenshot("03-first-visit")

    ola.join("general")
    kari.join("general")

    ola.wait(lambda: kari.user["id"] in ola.presence_ids(), "Ola does not see Kari online")
    kari.wait(lambda: ola.user["id"] in kari.presence_ids(), "Kari does not see Ola online")

    ola.send(f"Hei Kari, lunsj kl 12? ({hub.run_id})")
    kari.wait_for_body(f"Hei Kari, lunsj kl 12? ({hub.run_id})")

    # Typing indicator, then Shift+Enter for a newline and Enter to send.
    box = kari.composer()
    box.send_keys("Ja")
    ola.wait(lambda: ola.d.find_element(By.ID, "typing").text == "Kari Hansen is typing…", "no typing indicator")
    box.send_keys(Keys.SHIFT, Keys.ENTER)
    box.send_keys(f"gjerne! ({hub.run_id})", Keys.ENTER)
    two_lines = f"Ja\ngjerne! ({hub.run_id})"
    ola.wait_for_body(two_lines)
    kari.wait_for_body(two_lines)
    ola.wait(lambda: ola.d.find_element(By.ID, "typing").text == "", "typing indicator stayed after the message")

    # Own messages are confirmed, nothing left pending.
    # (Waited for: the other page can show a message before its sender's page has read the
    # acknowledgement.)
    for page in (ola, kari):
        page.wait(lambda page=page: page.pending_bodies() == [], f"{page.label}: a message stayed pending")
    ola.screenshot("04-channel-chat")
    assert ola.js_errors() == [] and kari.js_errors() == []


def test_a_body_with_html_is_shown_as_text(hub, browser):
    ola = browser("ola-xss").sign_in("Ola Nordmann")
    kari = browser("kari-xss").sign_in("Kari Hansen")
    ola.join("general")
    kari.join("general")

    kari.send(XSS_BODY)
    ola.wait_for_body(XSS_BODY)
    kari.wait_for_body(XSS_BODY)

    for page in (ola, kari):
        el = page.message_element(XSS_BODY).find_element(By.CSS_SELECTOR, ".msg-body")
        assert el.text == XSS_BODY
        assert page.js("return arguments[0].children.length", el) == 0
        assert "&lt;img" in page.js("return arguments[0].innerHTML", el)
        assert page.js("return document.querySelectorAll('#message-list img, #message-list .msg-body b').length") == 0
        assert no_alert(page), "the body was executed as HTML"
    ola.screenshot("05-html-as-text")


def test_reconnect_shows_missed_messages_once_and_in_order(hub, browser):
    ola = browser("ola-rc").sign_in("Ola Nordmann")
    kari = browser("kari-rc").sign_in("Kari Hansen")
    ola.join("general")
    kari.join("general")
    ola.wait(lambda: kari.user["id"] in ola.presence_ids(), "Ola does not see Kari")
    kari.wait(lambda: ola.user["id"] in kari.presence_ids(), "Kari does not see Ola")
    before = f"before the drop ({hub.run_id})"
    kari.send(before)
    ola.wait_for_body(before)

    # Ola's socket drops as in a network failure, and stays down for now.
    ola.js("window.__dugnad.debugDropConnection({stayOffline: true})")
    ola.wait(lambda: ola.connection() == "reconnecting", "no reconnecting state")
    status = ola.d.find_element(By.ID, "conn-status")
    assert status.is_displayed() and "Reconnecting" in status.text
    kari.wait(lambda: ola.user["id"] not in kari.presence_ids(), "Ola still shown online after the drop")

    # Ola writes while offline: the message waits in the outbox.
    offline_note = f"written while offline ({hub.run_id})"
    ola.send(offline_note)
    ola.wait(lambda: offline_note in ola.pending_bodies(), "offline message not shown as pending")

    missed = [f"missed {i} ({hub.run_id})" for i in range(1, 6)]
    for text in missed:
        kari.send(text)
    kari.wait(lambda: all(t in kari.bodies() for t in missed), "Kari's own messages not confirmed")
    ola.screenshot("06-reconnecting")
    assert not any(t in ola.bodies() for t in missed)

    ola.js("window.__dugnad.debugReconnect()")
    ola.wait_connected()
    ola.wait(lambda: all(t in ola.bodies() for t in missed), "missed messages not recovered")
    ola.wait(lambda: offline_note in ola.bodies() and not ola.pending_bodies(), "offline message not sent after reconnect")
    kari.wait_for_body(offline_note)
    kari.wait(lambda: ola.user["id"] in kari.presence_ids(), "Ola not back online for Kari")

    bodies = ola.bodies()
    for text in [before, *missed, offline_note]:
        assert bodies.count(text) == 1, f"{text!r} shown {bodies.count(text)} times"
    positions = [bodies.index(t) for t in [before, *missed]]
    assert positions == sorted(positions), "missed messages out of order"
    assert kari.bodies().count(offline_note) == 1, "the retried publish was stored twice"

    seqs = ola.state()["channels"]["general"]["seqs"]
    assert seqs == sorted(set(seqs)), "messages duplicated or out of seq order"

    # A plain drop reconnects by itself (backoff), and live messages flow again.
    ola.js("window.__dugnad.debugDropConnection()")
    ola.wait(lambda: ola.connection() == "ready", "no automatic reconnect", timeout=20)
    after = f"after the second drop ({hub.run_id})"
    kari.send(after)
    ola.wait_for_body(after)
    assert ola.bodies().count(after) == 1
    ola.screenshot("07-reconnected")
    assert ola.js_errors() == [] and kari.js_errors() == []


def test_a_publish_cut_off_by_a_drop_is_retried_and_stored_once(hub, browser):
    channel = unique(hub, "retry")
    ola = browser("ola-retry").sign_in("Ola Nordmann")
    kari = browser("kari-retry").sign_in("Kari Hansen")
    ola.join(channel)
    kari.join(channel)

    text = f"sent just as the network went ({hub.run_id})"
    # Send and drop in the same task: the publish frame is on the wire, its
    # reply can never arrive on this socket.
    ola.js(
        "const box = document.getElementById('composer-input');"
        "box.value = arguments[0];"
        "document.getElementById('composer').requestSubmit();"
        "window.__dugnad.debugDropConnection({stayOffline: true});",
        text,
    )
    ola.wait(lambda: ola.connection() == "reconnecting", "no reconnecting state")
    assert text in ola.pending_bodies()
    client_ids = [item["client_id"] for item in ola.state()["outbox"]]
    assert len(client_ids) == 1

    ola.js("window.__dugnad.debugReconnect()")
    ola.wait_connected()
    ola.wait(lambda: text in ola.bodies() and not ola.pending_bodies(), "the cut-off publish was not confirmed")
    kari.wait_for_body(text)
    ola.wait(lambda: ola.state()["outbox"] == [], "outbox not emptied")
    # Give a duplicate every chance to show up before counting.
    late = f"marker after the retry ({hub.run_id})"
    ola.send(late)
    kari.wait_for_body(late)
    assert kari.bodies().count(text) == 1, "the retried publish was stored twice"
    assert ola.bodies().count(text) == 1


def test_replies_quote_the_message_and_reactions_are_counted(hub, browser):
    channel = unique(hub, "react")
    ola = browser("ola-react").sign_in("Ola Nordmann")
    kari = browser("kari-react").sign_in("Kari Hansen")
    ola.join(channel)
    kari.join(channel)

    question = "Hvem tar med kake på fredag?"
    kari.send(question)
    ola.wait_for_body(question)

    message = ola.message_element(question)
    ActionChains(ola.d).move_to_element(message).perform()
    message.find_element(By.CSS_SELECTOR, "button[aria-label^='Reply to']").click()
    ola.wait(lambda: ola.d.find_element(By.ID, "reply-context").is_displayed(), "no reply context")
    ola.send("Jeg gjør det!")
    kari.wait_for_body("Jeg gjør det!")
    quote = kari.message_element("Jeg gjør det!").find_element(By.CSS_SELECTOR, ".msg-quote")
    assert "Kari Hansen" in quote.text and question in quote.text

    message = ola.message_element(question)
    ActionChains(ola.d).move_to_element(message).perform()
    message.find_element(By.CSS_SELECTOR, "button[aria-haspopup='menu']").click()
    ola.wait(lambda: ola.d.find_elements(By.CSS_SELECTOR, ".picker"), "no reaction picker")
    ola.d.find_element(By.CSS_SELECTOR, ".picker [aria-label='React with 👍']").click()

    def reaction_count(page):
        el = page.message_element(question).find_elements(By.CSS_SELECTOR, ".reaction[data-emoji='👍'] .reaction-count")
        return el[0].text if el else None

    kari.wait(lambda: reaction_count(kari) == "1", "Kari does not see Ola's reaction")
    kari.message_element(question).find_element(By.CSS_SELECTOR, ".reaction[data-emoji='👍']").click()
    ola.wait(lambda: reaction_count(ola) == "2", "Ola does not see Kari's reaction")
    pressed = kari.message_element(question).find_element(By.CSS_SELECTOR, ".reaction[data-emoji='👍']")
    kari.wait(lambda: pressed.get_attribute("aria-pressed") == "true", "own reaction not marked")
    kari.screenshot("08-replies-and-reactions")
    assert ola.js_errors() == [] and kari.js_errors() == []


def test_earlier_history_loads_on_request_in_order(hub, browser, ws_client):
    channel = unique(hub, "history")
    total = 65

    async def fill():
        async with ws_client(hub.token(hub.user_id("bot"), "Arkiv Bot")) as bot:
            await bot.request("join", channel=channel, history=1)
            for i in range(1, total + 1):
                while True:
                    reply = await bot.request("publish", channel=channel, body=f"old {i:03d}", client_id=f"hist-{i}")
                    if reply.get("ok"):
                        break
                    assert reply["error"]["code"] == "rate_limited", reply
                    await asyncio.sleep(reply["error"].get("retry_after_ms", 200) / 1000)

    asyncio.run(fill())
    page = browser("history").sign_in("Hanne Historie")
    page.join(channel)
    page.wait(lambda: "old 065" in page.bodies(), "latest messages not shown")
    first_page = page.bodies()
    assert "old 001" not in first_page and len(first_page) < total
    older = page.d.find_element(By.ID, "load-older")
    assert older.is_displayed()
    # Clicked where it is, without scrolling to it: scrolling near the top would load the
    # page by itself (test_phone.py checks that).
    page.js("arguments[0].click()", older)
    page.wait(lambda: "old 001" in page.bodies(), "earlier messages not loaded")
    bodies = page.bodies()
    assert bodies == [f"old {i:03d}" for i in range(1, total + 1)]
    page.wait(lambda: page.d.find_element(By.ID, "history-start").is_displayed(), "no start-of-channel note")
    assert not older.is_displayed()


def test_unread_counts_update_live_and_reading_clears_them(hub, browser):
    channel = unique(hub, "unread")
    ola = browser("ola-unread").sign_in("Ola Nordmann")
    kari = browser("kari-unread").sign_in("Kari Hansen")
    ola.join(channel)
    ola.join("general")  # Ola now looks at #general, not at the new channel
    kari.join(channel)

    for i in range(3):
        kari.send(f"unread {i}")
    ola.wait(lambda: ola.unread_badge(channel) == "3", "unread count not 3")
    ola.screenshot("09-unread-badge")

    ola.open_channel(channel)
    ola.wait(lambda: ola.unread_badge(channel) == "", "unread count not cleared after reading")
    ola.wait(lambda: ola.state()["channels"][channel]["readSeq"] == ola.state()["channels"][channel]["lastSeq"], "read position not moved")
    ola.wait(
        lambda: ola.state()["channels"][channel]["serverReadSeq"] == ola.state()["channels"][channel]["lastSeq"],
        "mark_read not confirmed by the hub",
    )

    # The read position reached the hub: after a reload the count stays at 0.
    ola.d.refresh()
    ola.wait_connected()
    ola.wait(lambda: ola.state()["channels"].get(channel, {}).get("joined"), "not rejoined after reload")
    assert ola.unread_badge(channel) == ""
    assert ola.state()["channels"][channel]["unread"] == 0


def test_announce_channel_disables_the_composer_for_members(hub, browser):
    channel = unique(hub, "notices")
    hub.create_channel(channel, "announce", "Notices")

    member = browser("member-announce").sign_in("Per Medlem")
    member.join(channel)
    member.wait(lambda: not member.composer().is_enabled(), "composer enabled for a member in an announce channel")
    note = member.d.find_element(By.ID, "composer-disabled")
    assert note.is_displayed() and "Only leaders and admins" in note.text
    member.screenshot("10-announce-channel-member")

    leader = browser("leader-announce").sign_in("Liv Leder", role="leader")
    leader.join(channel)
    assert leader.composer().is_enabled()
    leader.send("Kontoret er stengt mandag.")
    member.wait_for_body("Kontoret er stengt mandag.")


# ---- announcements ----------------------------------------------------------------


def test_announcement_is_acknowledged_and_the_reach_view_updates(hub, browser):
    member = browser("member-ann").sign_in("Mari Medlem")
    member.join("general")
    leader = browser("leader-ann").sign_in("Lars Leder", role="leader")
    leader.join("general")

    leader.d.find_element(By.ID, "nav-announcements").click()
    leader.d.find_element(By.ID, "announce-new").click()
    title = f"Brannøvelse kl 14 ({hub.run_id})"
    leader.d.find_element(By.ID, "announce-title").send_keys(title)
    leader.d.find_element(By.ID, "announce-body").send_keys("Alle går ut ved nærmeste nødutgang når alarmen går.")
    leader.d.find_element(By.CSS_SELECTOR, "#announce-priority option[value='urgent']").click()
    leader.d.find_element(By.ID, "announce-require-ack").click()
    leader.screenshot("11-announcement-composer")
    leader.d.find_element(By.ID, "announce-submit").click()
    # Urgent, to everyone: the page asks first (test_drafts.py checks the question).
    leader.wait(lambda: leader.d.find_element(By.ID, "announce-confirm").is_displayed(), "no question before an urgent announcement to everyone")
    leader.d.find_element(By.ID, "announce-confirm-send").click()

    reach_sel = ".reach"
    leader.wait(lambda: leader.d.find_elements(By.CSS_SELECTOR, reach_sel), "no reach view after announcing")

    def stat(name):
        els = leader.d.find_elements(By.CSS_SELECTOR, f".reach [data-stat='{name}']")
        return els[0].text if els else ""

    leader.wait(lambda: stat("audience") not in ("", "…"), "reach view has no audience figure")

    # The member sees it live, urgent, with both buttons.
    card_sel = "#announcement-banner .announcement--urgent"
    member.wait(lambda: any(title in c.text for c in member.d.find_elements(By.CSS_SELECTOR, card_sel)), "member did not get the announcement")
    card = next(c for c in member.d.find_elements(By.CSS_SELECTOR, card_sel) if title in c.text)
    assert card.find_element(By.CSS_SELECTOR, "[data-action='read']").is_displayed()
    member.screenshot("12-announcement-banner")
    if _axe_installed():
        violations = _axe_violations(member)
        assert violations == [], "\n".join(violations)

    # Mark as read first: a require_ack announcement stays until acknowledged.
    card.find_element(By.CSS_SELECTOR, "[data-action='read']").click()
    member.wait(lambda: not member.d.find_elements(By.CSS_SELECTOR, "#announcement-banner [data-action='read']"), "Mark as read did not register")
    leader.wait(lambda: stat("read").startswith("1"), "reach view did not count the read")

    # Read but not acknowledged: it is still there after a reload (from the welcome).
    member.d.refresh()
    member.wait_connected()
    member.wait(lambda: any(title in c.text for c in member.d.find_elements(By.CSS_SELECTOR, card_sel)), "unacknowledged announcement gone after reload")
    card = next(c for c in member.d.find_elements(By.CSS_SELECTOR, card_sel) if title in c.text)
    assert not card.find_elements(By.CSS_SELECTOR, "[data-action='read']"), "read state lost after reload"

    card.find_element(By.CSS_SELECTOR, "[data-action='ack']").click()
    member.wait(lambda: not any(title in c.text for c in member.d.find_elements(By.CSS_SELECTOR, "#announcement-banner .announcement")), "acknowledged announcement still in the banner")
    leader.wait(lambda: stat("acked").startswith("1"), "reach view did not count the acknowledgement")
    leader.wait(lambda: stat("delivered") not in ("", "…") and int(stat("delivered").split()[0]) >= 1, "no deliveries counted")

    leader.d.find_element(By.CSS_SELECTOR, ".reach [data-action='remind']").click()
    leader.wait(lambda: leader.d.find_elements(By.CSS_SELECTOR, ".reach .reach-note"), "Remind gave no feedback")
    leader.screenshot("13-announcement-reach")

    # The member's feed keeps it, marked as acknowledged.
    member.d.find_element(By.ID, "nav-announcements").click()
    member.wait(lambda: any(title in c.text and "Acknowledged" in c.text for c in member.d.find_elements(By.CSS_SELECTOR, "#announcement-feed .announcement")), "feed does not show it as acknowledged")
    member.screenshot("14-announcement-feed")
    assert member.js_errors() == [] and leader.js_errors() == []


# ---- layout --------------------------------------------------------------------------


def test_phone_width_collapses_the_sidebar(hub, browser):
    page = browser("phone", width=390, height=844).sign_in("Siri Mobil")
    page.join("general")
    sidebar = page.d.find_element(By.ID, "sidebar")
    page.wait(lambda: not sidebar.is_displayed(), "sidebar visible at phone width")
    page.send(f"Fra mobilen ({hub.run_id})")
    page.wait_for_body(f"Fra mobilen ({hub.run_id})")
    page.screenshot("15-phone")

    toggle = page.d.find_element(By.ID, "nav-toggle")
    toggle.click()
    page.wait(lambda: sidebar.is_displayed() and toggle.get_attribute("aria-expanded") == "true", "sidebar did not open")
    page.wait(lambda: page.js("return document.getElementById('sidebar').getBoundingClientRect().left") >= 0, "sidebar still sliding in")
    page.screenshot("16-phone-sidebar")
    page.d.find_element(By.CSS_SELECTOR, "#channel-list [data-channel='general']").click()
    page.wait(lambda: not sidebar.is_displayed(), "sidebar did not close after choosing a channel")
    assert page.js("return window.innerWidth") == 390
    width = page.js("return document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"


def test_keyboard_reaches_the_composer_through_the_skip_link(hub, browser):
    page = browser("keyboard").sign_in("Kim Tastatur")
    page.join("general")
    page.d.refresh()  # start from the top of the page, as a keyboard user would
    page.wait_connected()
    ActionChains(page.d).send_keys(Keys.TAB).perform()
    first = page.js("return document.activeElement.textContent")
    assert first == "Skip to messages"
    ActionChains(page.d).send_keys(Keys.TAB).perform()
    assert page.js("return document.activeElement.textContent") == "Skip to message box"
    ActionChains(page.d).send_keys(Keys.ENTER).perform()
    assert page.js("return document.activeElement.id") == "composer-input"
    ActionChains(page.d).send_keys(f"sent with the keyboard ({hub.run_id})", Keys.ENTER).perform()
    page.wait_for_body(f"sent with the keyboard ({hub.run_id})")


# ---- accessibility ------------------------------------------------------------------


def _axe_installed() -> bool:
    try:
        import axe_selenium_python  # noqa: F401
    except ImportError:
        return False
    return True


def _axe_violations(page) -> list[str]:
    return page.axe_violations()


def test_main_views_pass_an_automated_accessibility_audit(hub, browser):
    anonymous = browser("a11y-signin")
    anonymous.d.get(hub.base_url + "/")
    anonymous.wait(lambda: anonymous.d.find_element(By.ID, "signin").is_displayed(), "sign-in page not shown")
    violations = _axe_violations(anonymous)
    assert violations == [], "\n".join(violations)

    leader = browser("a11y-leader").sign_in("Lea Leder", role="leader")
    other = browser("a11y-other").sign_in("Odd Annen")
    channel = unique(hub, "a11y")
    leader.join(channel)
    other.join(channel)
    other.send("Møte i morgen kl 9 — https://intranett.example/agenda")
    leader.wait_for_body("Møte i morgen kl 9 — https://intranett.example/agenda")
    leader.send("Takk!")
    other.wait_for_body("Takk!")
    violations = _axe_violations(leader)
    assert violations == [], "\n".join(violations)

    leader.d.find_element(By.ID, "nav-announcements").click()
    leader.d.find_element(By.ID, "announce-new").click()
    leader.wait(lambda: leader.d.find_element(By.ID, "announce-title").is_displayed(), "no announcement composer")
    violations = _axe_violations(leader)
    assert violations == [], "\n".join(violations)
