"""One person, several devices (issue 20): two sessions of one user stay in step (read
positions and announcement receipts), and a connection that stops forwarding is noticed
within 5 s, with nothing lost or doubled after it recovers."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import WSClient
from stall_proxy import StallProxy

PHONE = (390, 844)


def two_devices(hub, browser, name: str, role: str | None = None):
    sub = hub.user_id(name.split()[0].lower())
    laptop = browser(f"{sub}-laptop").sign_in(name, role=role, sub=sub)
    phone = browser(f"{sub}-phone", *PHONE).sign_in(name, role=role, sub=sub)
    return laptop, phone


def tab_to(page, css: str, limit: int = 40):
    """Press Shift+Tab until the element `css` has focus, as a keyboard user would; fails
    if it is not reached within `limit` presses."""
    for _ in range(limit):
        if page.js("return document.activeElement.matches(arguments[0])", css):
            return
        ActionChains(page.d).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    raise AssertionError(f"{page.label}: {css} not reached by keyboard in {limit} presses")


def publish_as(hub, sender: str, channel: str, bodies: list[str]):
    async def run():
        async with WSClient(hub, hub.token(sender, "Ola Avsender")) as c:
            assert (await c.request("join", channel=channel))["ok"]
            for body in bodies:
                reply = await c.request("publish", channel=channel, body=body)
                assert reply["ok"], reply

    asyncio.run(run())


def history_bodies(hub, channel: str) -> list[str]:
    async def run():
        async with WSClient(hub, hub.token(hub.user_id("reader"), "Les Historikk")) as c:
            await c.request("join", channel=channel)
            reply = await c.request("history", channel=channel, limit=200)
            return [m["body"] for m in reply["messages"]]

    return asyncio.run(run())


def test_reading_on_the_laptop_clears_the_count_on_the_phone(hub, browser):
    channel = f"devices-{hub.run_id}"
    elsewhere = f"elsewhere-{hub.run_id}"
    laptop, phone = two_devices(hub, browser, "Kari Nordmann")
    for page in (laptop, phone):
        page.join(channel)
        page.join(elsewhere)  # looking at another channel: new messages in `channel` are unread

    publish_as(hub, hub.user_id("ola"), channel, [f"Melding {i} ({hub.run_id})" for i in range(3)])
    for page in (laptop, phone):
        page.wait(lambda p=page: p.state()["channels"][channel]["unread"] == 3, f"{page.label}: 3 unread never showed")
        page.wait(lambda p=page: p.d.title.startswith("(3)"), f"{page.label}: title without (3)")
    phone.open_nav_if_collapsed()
    assert phone.unread_badge(channel) == "3"
    phone.screenshot("devices-phone-unread")

    # By keyboard alone: back from the message box to the channel, Enter opens it (and
    # reads all three).
    tab_to(laptop, f"#channel-list [data-channel='{channel}']")
    ActionChains(laptop.d).send_keys(Keys.ENTER).perform()
    laptop.wait(lambda: laptop.active_channel() == channel, "Enter did not open the channel")
    laptop.wait(lambda: laptop.state()["channels"][channel]["unread"] == 0, "the laptop did not read them")
    phone.wait(lambda: phone.state()["channels"][channel]["unread"] == 0, "the phone still counts them unread")
    phone.wait(lambda: phone.unread_badge(channel) == "", "the phone still shows a badge")
    phone.wait(lambda: not phone.d.title.startswith("("), f"the phone's title still counts: {phone.d.title!r}")
    assert phone.js_errors() == [] and laptop.js_errors() == []


def test_acknowledging_on_one_device_takes_the_banner_away_on_the_other(hub, browser):
    channel = f"ack-{hub.run_id}"
    laptop, phone = two_devices(hub, browser, "Per Hansen")
    for page in (laptop, phone):
        page.join(channel)
    admin = hub.token(hub.user_id("admin"), "Hub Admin", "admin")
    title = f"Brannøvelse kl 10 ({hub.run_id})"
    status, body = hub.http(
        "POST", "/api/v1/announcements", admin,
        {"title": title, "body": "Møt ved hovedinngangen.", "audience": {"channels": [channel]}, "priority": "urgent", "require_ack": True},
    )
    assert status == 201, body
    announcement_id = body["announcement"]["id"]
    card = f"#announcement-banner [data-announcement-id='{announcement_id}']"
    for page in (laptop, phone):
        page.wait(lambda p=page: p.d.find_elements(By.CSS_SELECTOR, card), f"{page.label}: no banner")
        page.wait(lambda p=page: p.js("return document.getElementById('announcements-badge').textContent") == "1", f"{page.label}: no badge")

    # By keyboard alone, from the message box back to the banner's Acknowledge.
    laptop.composer().click()
    tab_to(laptop, f"{card} [data-action='ack']")
    ActionChains(laptop.d).send_keys(Keys.ENTER).perform()
    laptop.wait(lambda: not laptop.d.find_elements(By.CSS_SELECTOR, card), "the laptop kept the banner")
    phone.wait(lambda: not phone.d.find_elements(By.CSS_SELECTOR, card), "the phone kept the banner after the laptop acknowledged")
    phone.wait(lambda: phone.js("return document.getElementById('announcements-badge').hidden"), "the phone kept the badge")
    entry = [a for a in phone.state()["announcements"] if a["id"] == announcement_id][0]
    assert entry["acked"] and entry["read"]


@pytest.mark.parametrize("direction", ["both", "down"])
def test_a_stalled_connection_is_noticed_within_5_s_and_nothing_is_lost_or_doubled(hub, browser, output_dir, direction):
    """`both`: nothing gets through (the publish never reaches the hub). `down`: the hub
    gets the publish and stores it, but its reply never arrives; the retry after the
    reconnect carries the same client_id, so the hub answers with the stored message."""
    channel = f"stall-{direction}-{hub.run_id}"
    with StallProxy(hub.port) as proxy:
        page = browser(f"stall-{direction}")
        token = hub.token(hub.user_id("siri"), "Siri Stall")
        page.d.get(f"{proxy.base_url}/#token={token}")
        page.wait_connected()
        page.join(channel)
        connects_before = page.state()["connects"]

        assert proxy.stall(direction) >= 1
        body = f"Sendt i tunnelen ({direction}, {hub.run_id})"
        started = time.monotonic()
        page.send(body)
        # Meanwhile someone else posts: the page must get it once the path is back.
        other = f"Mens du var borte ({direction}, {hub.run_id})"
        publish_as(hub, hub.user_id("ola"), channel, [other])

        # Header, message and presence tell the same story: not "Connected", "2 online"
        # and "Sending…".
        def header_and_message():
            header = page.js("return document.getElementById('conn').dataset.state")
            status = page.js("const s = document.querySelector('#message-list .msg--pending .msg-status'); return s && s.textContent")
            presence = page.js("return document.getElementById('presence-toggle').textContent")
            return (header, status, presence) if header != "ready" else None

        header, status, presence = page.wait(header_and_message, "the stall was not noticed", timeout=15)
        detected = time.monotonic() - started
        assert status in (None, "Waiting for connection…"), f"the header says {header!r} while the message says {status!r}"
        assert "online" not in presence, f"the header says {header!r} while presence says {presence!r}"
        page.wait(lambda: page.state()["connection"] == "ready" and page.state()["connects"] > connects_before, "no reconnect", timeout=30)
        page.wait(lambda: body in page.bodies() and other in page.bodies(), "a message was lost after the reconnect", timeout=30)
        page.wait(lambda: page.pending_bodies() == [], "the message stayed pending")
        recovered = time.monotonic() - started

        assert page.bodies().count(body) == 1 and page.bodies().count(other) == 1, page.bodies()
        assert history_bodies(hub, channel).count(body) == 1, "the hub stored the message twice"
        record = {"direction": direction, "detected_s": round(detected, 2), "delivered_after_s": round(recovered, 2)}
        (output_dir / f"stall-{direction}.json").write_text(json.dumps(record))
        print(record)
        assert detected < 5, f"noticed after {detected:.1f} s"
