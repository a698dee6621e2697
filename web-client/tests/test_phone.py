"""At home on a phone (issue 20), and the flows by keyboard alone: compact, collapsible
banners; message actions on tap; texts that fit; the phone menu keeping focus; history
that loads as the reader scrolls up; a roving tabindex; focus after leaving a channel;
installability. axe stays clean on each of these views."""

from __future__ import annotations

import asyncio

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import WSClient

PHONE = (390, 844)


def announce(hub, channel: str, title: str, priority: str, require_ack: bool) -> str:
    admin = hub.token(hub.user_id("admin"), "Hub Admin", "admin")
    status, body = hub.http("POST", "/api/v1/announcements", admin, {
        "title": title, "body": "Detaljer følger.", "audience": {"channels": [channel]}, "priority": priority, "require_ack": require_ack})
    assert status == 201, body
    return body["announcement"]["id"]


def post_many(hub, channel: str, n: int, prefix: str):
    async def run():
        async with WSClient(hub, hub.token(hub.user_id("ola"), "Ola Poster")) as c:
            await c.request("join", channel=channel)
            for i in range(1, n + 1):
                while True:  # the publish budget is 20/s: wait as the hub asks
                    reply = await c.request("publish", channel=channel, body=f"{prefix} {i}")
                    if reply["ok"] or reply["error"]["code"] != "rate_limited":
                        break
                    await asyncio.sleep(reply["error"]["retry_after_ms"] / 1000)
                assert reply["ok"], reply
    asyncio.run(run())


def reader_of(hub, browser, label: str, name: str, channel: str, n: int, prefix: str):
    """A page of `name`, who joins `channel` after `n` messages were posted there."""
    page = browser(label).sign_in(name)
    post_many(hub, channel, n, prefix)
    page.join(channel)
    page.wait_for_body(f"{prefix} {n}")
    return page


def focused_id(page) -> str:
    return page.js("const a = document.activeElement; return a ? (a.id || a.tagName + '.' + a.className) : ''")


def test_two_announcements_take_one_line_on_a_phone_and_open_on_request(hub, browser):
    page = browser("phone-banner", *PHONE).sign_in("Siri Mobil")
    channel = f"phone-{hub.run_id}"
    page.join(channel)
    urgent = announce(hub, channel, f"Strømstans fredag 07–09 ({hub.run_id})", "urgent", True)
    announce(hub, channel, f"Nytt kantinemeny ({hub.run_id})", "important", False)
    banner = page.d.find_element(By.ID, "announcement-banner")
    page.wait(lambda: "2" in page.js("return document.getElementById('announcements-badge').textContent"), "no badge of 2")
    page.wait(lambda: page.d.find_elements(By.CSS_SELECTOR, f"#announcement-banner .announcement--line[data-announcement-id='{urgent}']"),
              "the urgent announcement is not the one line shown")
    assert page.d.find_element(By.CSS_SELECTOR, ".announcement--line [data-action='ack']").is_displayed()
    page.screenshot("phone-banner-collapsed")
    assert banner.size["height"] <= 64, f"the collapsed banner is {banner.size['height']} px high"
    print(f"collapsed banner: {banner.size['height']} px")
    assert page.axe_violations() == []

    toggle = page.d.find_element(By.ID, "banner-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    page.wait(lambda: len(page.d.find_elements(By.CSS_SELECTOR, "#announcement-banner .announcement:not(.announcement--line)")) == 2, "expanding did not show both")
    assert focused_id(page) == "banner-toggle", "focus left the toggle"
    assert page.d.find_element(By.ID, "banner-toggle").get_attribute("aria-expanded") == "true"
    page.screenshot("phone-banner-expanded")
    page.d.find_element(By.ID, "banner-toggle").click()
    page.wait(lambda: page.d.find_elements(By.CSS_SELECTOR, "#announcement-banner .announcement--line"), "did not collapse again")

    # Acknowledge from the one line: the next one takes its place.
    page.d.find_element(By.CSS_SELECTOR, ".announcement--line [data-action='ack']").click()
    page.wait(lambda: not page.d.find_elements(By.CSS_SELECTOR, f"#announcement-banner [data-announcement-id='{urgent}']"), "acknowledged one stayed")
    page.wait(lambda: page.d.find_elements(By.CSS_SELECTOR, "#announcement-banner .announcement--line [data-action='read']"), "the other did not move up")


def test_the_phone_texts_fit_and_the_menu_keeps_focus(hub, browser):
    page = browser("phone-menu", *PHONE).sign_in("Nora Ny")
    empty = page.d.find_element(By.ID, "empty-view")
    page.wait(empty.is_displayed, "no empty view")
    assert "☰" in empty.text and "on the left" not in empty.text, empty.text

    page.open_nav_if_collapsed()
    inside = "return !!(document.activeElement.closest('#sidebar') || document.activeElement.id === 'nav-toggle')"
    for _ in range(12):
        ActionChains(page.d).send_keys(Keys.TAB).perform()
        assert page.js(inside), f"Tab left the open menu for {focused_id(page)}"
    for _ in range(4):
        ActionChains(page.d).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        assert page.js(inside), f"Shift+Tab left the open menu for {focused_id(page)}"
    assert page.axe_violations() == []
    ActionChains(page.d).send_keys(Keys.ESCAPE).perform()
    page.wait(lambda: page.d.find_element(By.ID, "nav-toggle").get_attribute("aria-expanded") == "false", "Escape did not close the menu")
    assert focused_id(page) == "nav-toggle"
    assert page.js("return document.getElementById('main').inert") is False


def test_message_actions_come_on_tap_not_as_a_row_under_every_message(hub, browser):
    page = browser("phone-tap", *PHONE).sign_in("Tor Trykk")
    channel = f"tap-{hub.run_id}"
    page.join(channel)
    post_many(hub, channel, 3, "Trykk")
    page.wait_for_body("Trykk 3")
    opacity = "return [...document.querySelectorAll('#message-list .msg-actions')].map(e => getComputedStyle(e).opacity)"
    page.wait(lambda: page.js(opacity) == ["0", "0", "0"], f"actions shown without a tap: {page.js(opacity)}")
    page.message_element("Trykk 2").find_element(By.CSS_SELECTOR, ".msg-body").click()
    page.wait(lambda: page.js(opacity) == ["0", "1", "0"], f"a tap did not show that message's actions: {page.js(opacity)}")
    page.message_element("Trykk 2").find_element(By.CSS_SELECTOR, ".msg-actions button").click()
    page.wait(lambda: page.d.find_element(By.ID, "reply-context").is_displayed(), "Reply from the tapped actions did nothing")
    page.screenshot("phone-message-actions")


def test_history_loads_by_scrolling_and_keeps_position_and_focus(hub, browser):
    channel = f"scrollback-{hub.run_id}"
    page = reader_of(hub, browser, "history-scroll", "Hanne Historikk", channel, 130, "Historikk")
    seqs = lambda: page.state()["channels"][channel]["seqs"]  # noqa: E731
    page.wait(lambda: len(seqs()) == 50, "the first page is not 50 messages")

    # Scroll near the top: the next page comes by itself, and the message that was at the
    # top stays where it was on screen.
    top_before = page.js(
        "const s = document.getElementById('message-scroll'); s.scrollTop = 0;"
        "const first = document.querySelector('#message-list .msg'); return [first.dataset.seq, first.getBoundingClientRect().top];")
    page.wait(lambda: len(seqs()) == 100, f"scrolling up did not load a page ({len(seqs())} held)")
    where = lambda: page.js(f"return document.querySelector(\"#message-list .msg[data-seq='{top_before[0]}']\").getBoundingClientRect().top")  # noqa: E731
    page.wait(lambda: abs(where() - top_before[1]) < 4, f"the reading position jumped: {top_before} -> {where()}")

    # By keyboard: the button, then focus on the newest of the messages it loaded.
    page.js("document.getElementById('message-scroll').scrollTop = 600")
    button = page.d.find_element(By.ID, "load-older")
    page.js("arguments[0].focus({preventScroll: true})", button)
    ActionChains(page.d).send_keys(Keys.ENTER).perform()
    page.wait(lambda: len(seqs()) == 130, "the button did not load the rest")
    page.wait(lambda: page.js("return document.activeElement.dataset.seq") == "30", f"focus is on {focused_id(page)}, not the newest loaded message")
    assert page.d.find_element(By.ID, "history-start").is_displayed()
    assert "30 earlier messages loaded" in page.d.find_element(By.ID, "history-status").get_attribute("textContent")


def test_message_actions_are_one_tab_stop_with_arrow_keys_between_messages(hub, browser):
    page = reader_of(hub, browser, "roving", "Rune Rover", f"roving-{hub.run_id}", 50, "Rover")
    stops = page.js("return [...document.querySelectorAll('#message-list [tabindex], #message-list button, #message-list a')].filter(e => e.tabIndex >= 0).length")
    assert stops <= 4, f"{stops} tab stops in 50 messages"
    print(f"tab stops in 50 messages: {stops}")

    page.d.find_element(By.ID, "message-list").click()
    page.js("document.getElementById('message-list').focus()")
    ActionChains(page.d).send_keys(Keys.ARROW_UP).perform()
    page.wait(lambda: page.js("return document.activeElement.classList.contains('msg')"), "ArrowUp did not reach a message")
    first = page.js("return document.activeElement.dataset.seq")
    ActionChains(page.d).send_keys(Keys.ARROW_UP).perform()
    assert int(page.js("return document.activeElement.dataset.seq")) == int(first) - 1
    ActionChains(page.d).send_keys(Keys.TAB).perform()
    assert page.js("return document.activeElement.closest('.msg-actions') !== null"), "Tab from a message does not reach its actions"
    ActionChains(page.d).send_keys(Keys.ENTER).perform()  # Reply
    page.wait(lambda: page.d.find_element(By.ID, "reply-context").is_displayed(), "Reply by keyboard did nothing")
    assert page.axe_violations() == []


def test_after_leaving_a_channel_focus_is_on_the_next_channels_title(hub, browser):
    page = browser("leave-focus")
    page.sign_in("Lise Forlater")
    first, second = f"leave-a-{hub.run_id}", f"leave-b-{hub.run_id}"
    page.join(first)
    page.join(second)
    page.d.find_element(By.ID, "leave-channel").click()
    page.d.switch_to.alert.accept()
    page.wait(lambda: second not in page.state()["channels"], "did not leave")
    page.wait(lambda: focused_id(page) == "channel-title", f"focus is on {focused_id(page)}")
    assert page.d.find_element(By.ID, "channel-title").text == f"#{first}"


def test_the_client_is_installable_with_an_offline_shell(hub, browser):
    page = browser("install").sign_in("Ivar Installer")
    href = page.js("return document.querySelector('link[rel=manifest]').href")
    status, manifest = hub.http("GET", "/" + href.split("/", 3)[3])
    assert status == 200 and manifest["name"] == "Dugnad" and manifest["display"] == "standalone"
    page.wait(lambda: page.js("return navigator.serviceWorker.controller !== null || null") or page.js(
        "const done = arguments[0]; return null") is None and page.d.execute_async_script(
        "const done = arguments[arguments.length - 1]; navigator.serviceWorker.ready.then(r => done(!!r.active))"),
        "the service worker did not start")
    # Offline, a reload still opens the client (from the shell), which says it is offline.
    page.d.refresh()
    page.wait(lambda: page.js("return navigator.serviceWorker.controller !== null"), "the page is not under the offline shell")
    page.d.execute_cdp_cmd("Network.enable", {})
    page.d.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        page.d.refresh()
        page.wait(lambda: page.d.find_element(By.ID, "app").is_displayed() or page.d.find_element(By.ID, "signin").is_displayed(),
                  "offline, the page did not open from the shell")
        page.screenshot("offline-shell")
    finally:
        page.d.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
