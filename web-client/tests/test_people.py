"""Browser tests of issue 16 in the web client (protocol.md, contract §9 "People"):
"Browse channels" (the `channels` directory), search with results that jump to the
message in its channel, and editing and deleting messages, live and after a reconnect.

Run only these with `-k people`.
"""

from __future__ import annotations

import asyncio

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def unique(hub, prefix: str) -> str:
    return f"{prefix}-{hub.run_id}"


def admin_http(hub, method: str, path: str, body=None):
    admin = hub.token(hub.user_id("root"), "Hub Admin", "admin")
    return hub.http(method, path, admin, body)


def directory_names(page) -> list[str]:
    return page.js("return [...document.querySelectorAll('#directory-list .dir-entry')].map(e => e.dataset.channel)")


def sidebar_channels(page) -> list[str]:
    return page.js("return [...document.querySelectorAll('#channel-list [data-channel]')].map(e => e.dataset.channel)")


async def publish_all(client, channel: str, bodies: list[str], prefix: str):
    """Publish in order, waiting out the publish budget (20/s) where it bites."""
    for i, body in enumerate(bodies):
        while True:
            reply = await client.request("publish", channel=channel, body=body, client_id=f"{prefix}-{i}")
            if reply.get("ok"):
                break
            assert reply["error"]["code"] == "rate_limited", reply
            await asyncio.sleep(reply["error"].get("retry_after_ms", 200) / 1000)


def test_people_browse_channels_finds_joins_and_hides_private_ones(hub, browser):
    public = unique(hub, "hagelag")
    secret = unique(hub, "hagelag-styret")
    other = unique(hub, "kantina")
    hub.create_channel(public, "public", "Hagelaget")
    hub.create_channel(other, "public", "Kantina")
    hub.create_channel(secret, "private", "Hagelagets styre")
    status, body = admin_http(hub, "PUT", f"/api/v1/channels/{public}", {"description": "Frø, stiklinger og dugnad på taket"})
    assert status == 200, body

    kari = browser("kari-directory").sign_in("Kari Hansen")
    kari.open_nav_if_collapsed()
    kari.d.find_element(By.ID, "nav-browse").click()
    kari.wait(lambda: kari.d.find_element(By.ID, "directory-view").is_displayed(), "the directory did not open")
    assert kari.js("return document.activeElement.id") == "directory-title"
    assert kari.d.find_element(By.ID, "nav-browse").get_attribute("aria-current") == "page"
    kari.wait(lambda: "listed" in kari.js("return document.getElementById('directory-status').textContent"), "the directory did not load")

    # Found by a part of its title, whatever the case; the private one never shows.
    field = kari.d.find_element(By.ID, "directory-query")
    field.send_keys("HAGELAG")
    kari.wait(lambda: "found" in kari.js("return document.getElementById('directory-status').textContent"), "the query was not asked")
    assert directory_names(kari) == [public], f"the directory did not narrow to #{public}: {directory_names(kari)}"
    entry = kari.d.find_element(By.CSS_SELECTOR, f'#directory-list [data-channel="{public}"]')
    assert "Frø, stiklinger og dugnad på taket" in entry.text
    assert "0 members" in entry.text
    assert secret not in kari.js("return document.getElementById('directory-list').textContent")
    assert "1 channel found" in kari.js("return document.getElementById('directory-status').textContent")
    assert kari.axe_violations() == []
    kari.screenshot("people-directory")

    # Join from the list: into the sidebar, the button becomes Open and keeps focus.
    entry.find_element(By.CSS_SELECTOR, "button").click()
    kari.wait(lambda: public in sidebar_channels(kari), f"#{public} did not come into the sidebar")
    kari.wait(
        lambda: kari.d.find_element(By.CSS_SELECTOR, f'#directory-list [data-channel="{public}"] button').text == "Open",
        "the Join button did not become Open",
    )
    assert "1 member" in kari.d.find_element(By.CSS_SELECTOR, f'#directory-list [data-channel="{public}"]').text
    assert kari.js("return document.activeElement.textContent") == "Open"
    kari.d.switch_to.active_element.send_keys(Keys.ENTER)
    kari.wait(lambda: kari.active_channel() == public, f"Open did not show #{public}")

    # A query nothing matches says so in words.
    kari.d.find_element(By.ID, "nav-browse").click()
    field = kari.d.find_element(By.ID, "directory-query")
    field.send_keys("zz-no-such-thing")
    kari.wait(lambda: kari.d.find_element(By.ID, "directory-empty").is_displayed(), "no word for an empty result")
    assert "zz-no-such-thing" in kari.d.find_element(By.ID, "directory-empty").text
    assert kari.js_errors() == []


def test_people_search_marks_the_words_and_jumps_to_an_old_message(hub, browser, ws_client):
    channel = unique(hub, "styremote")
    target = "Årsmøtet er flyttet til torsdag <b>kl. 18</b>"
    later = [f"Småprat {i:02d}" for i in range(1, 61)]  # the target is not in the first page

    async def fill():
        async with ws_client(hub.token(hub.user_id("bot"), "Styrets Bot")) as bot:
            await bot.request("join", channel=channel, history=1)
            await publish_all(bot, channel, [target, *later], unique(hub, "search"))

    asyncio.run(fill())
    page = browser("search").sign_in("Siri Søker")
    page.join(channel)
    page.wait(lambda: "Småprat 60" in page.bodies(), "the latest messages are not shown")
    assert target not in page.bodies()

    box = page.d.find_element(By.ID, "search-input")
    box.send_keys("årsmøt", Keys.ENTER)
    page.wait(lambda: page.d.find_element(By.ID, "search-view").is_displayed(), "the results did not open")
    page.wait(lambda: page.d.find_elements(By.CSS_SELECTOR, f'#search-results .hit[data-channel="{channel}"]'), "no result")
    hit = page.d.find_element(By.CSS_SELECTOR, f'#search-results .hit[data-channel="{channel}"]')
    assert [m.text for m in hit.find_elements(By.CSS_SELECTOR, "mark")] == ["Årsmøtet"]
    # The message's markup is text: no <b> element, the tags are shown as written.
    assert hit.find_elements(By.CSS_SELECTOR, ".hit-excerpt b") == []
    assert "<b>kl. 18</b>" in hit.find_element(By.CSS_SELECTOR, ".hit-excerpt").text
    assert "1 message found" in page.d.find_element(By.ID, "search-status").text
    assert page.axe_violations() == []
    page.screenshot("people-search")

    # The result jumps to the message: its channel opens with history loaded back to it.
    hit.find_element(By.CSS_SELECTOR, "button").click()
    page.wait(lambda: page.active_channel() == channel, "the result did not open its channel")
    page.wait(lambda: target in page.bodies(), "the old message was not loaded")
    focused_seq = page.js("return document.activeElement.dataset.seq")
    assert focused_seq == hit.get_attribute("data-seq"), "focus is not on the message found"
    assert page.js("return document.activeElement.classList.contains('msg--found')")
    bodies = page.bodies()
    assert bodies[bodies.index(target):] == [target, *later], "the history between is not gapless"

    # A query with no words is the hub's bad_request, said in words; nothing breaks.
    box.clear()
    box.send_keys('"*"', Keys.ENTER)
    page.wait(lambda: page.d.find_element(By.ID, "search-error").text, "no words for a refused search")
    assert page.connection() == "ready"
    assert page.js_errors() == []


def test_people_edit_and_delete_reach_the_other_page_live_and_after_a_reconnect(hub, browser):
    channel = unique(hub, "rettelser")
    ola = browser("ola-edit").sign_in("Ola Nordmann")
    kari = browser("kari-edit").sign_in("Kari Hansen")
    ola.join(channel)
    kari.join(channel)
    ola.send("Lunsj klokka 12?")
    ola.send("Feil kanal, beklager")
    kari.wait_for_body("Feil kanal, beklager")

    # Kari sees no Edit or Delete on Ola's messages (she is not an admin).
    theirs = kari.message_element("Lunsj klokka 12?")
    assert theirs.find_elements(By.CSS_SELECTOR, "[data-action='edit'], [data-action='delete']") == []

    # Ola edits by keyboard: the message's Edit button, the box, Enter.
    mine = ola.message_element("Lunsj klokka 12?")
    ola.js("arguments[0].focus()", mine)
    edit = mine.find_element(By.CSS_SELECTOR, "[data-action='edit']")
    ola.js("arguments[0].click()", edit)
    box = ola.d.switch_to.active_element
    assert box.get_attribute("class") == "msg-edit-input"
    assert ola.axe_violations() == []
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("Lunsj klokka 12.30?", Keys.ENTER)
    ola.wait(lambda: "Lunsj klokka 12.30? (edited)" in ola.bodies(), "Ola's page does not show the edit")
    kari.wait(lambda: "Lunsj klokka 12.30? (edited)" in kari.bodies(), "Kari's page did not get message_edited")
    assert ola.js("return document.activeElement.dataset.seq") == mine.get_attribute("data-seq"), "focus did not return to the message"

    # Escape leaves a message as it was.
    ola.js("arguments[0].click()", ola.message_element("Feil kanal, beklager").find_element(By.CSS_SELECTOR, "[data-action='edit']"))
    ola.d.switch_to.active_element.send_keys(" nei", Keys.ESCAPE)
    assert "Feil kanal, beklager" in ola.bodies()

    # Delete (confirmed): a placeholder on both pages, the seq kept.
    ola.js("window.confirm = () => true")
    ola.js("arguments[0].click()", ola.message_element("Feil kanal, beklager").find_element(By.CSS_SELECTOR, "[data-action='delete']"))
    ola.wait(lambda: "This message was deleted." in ola.bodies(), "Ola's page does not show the deletion")
    kari.wait(lambda: "This message was deleted." in kari.bodies(), "Kari's page did not get message_deleted")
    assert "Feil kanal, beklager" not in kari.bodies()

    # While Kari is away Ola edits once more; her rejoin with `since` brings the change.
    kari.js("window.__dugnad.debugDropConnection({stayOffline: true})")
    kari.wait(lambda: kari.connection() != "ready", "Kari's page did not go offline")
    mine = ola.message_element("Lunsj klokka 12.30? (edited)")
    ola.js("arguments[0].click()", mine.find_element(By.CSS_SELECTOR, "[data-action='edit']"))
    box = ola.d.switch_to.active_element
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("Lunsj klokka 13, da", Keys.ENTER)
    ola.wait(lambda: "Lunsj klokka 13, da (edited)" in ola.bodies(), "the second edit did not land")
    kari.js("window.__dugnad.debugReconnect()")
    kari.wait_connected()
    kari.wait(lambda: "Lunsj klokka 13, da (edited)" in kari.bodies(), "the rejoin did not apply the edit made while away")
    assert kari.bodies().count("This message was deleted.") == 1
    assert ola.js_errors() == [] and kari.js_errors() == []


def click_direct(page, user_id: str):
    """The "direct message" button of a person online (in one step: the list is drawn
    again as presence changes, so a found element may be gone a moment later)."""
    clicked = page.js(
        "const b = document.querySelector(`#presence-list [data-user-id='${arguments[0]}'] .presence-direct`);"
        "if (b) b.click(); return Boolean(b);",
        user_id,
    )
    assert clicked, f"{page.label}: no direct message button for {user_id}"


def test_people_a_direct_message_from_the_people_online_reaches_only_that_person(hub, browser):
    channel = unique(hub, "kaffekroken")
    ola = browser("ola-direct").sign_in("Ola Nordmann")
    kari = browser("kari-direct").sign_in("Kari Hansen")
    per = browser("per-direct").sign_in("Per Tredje")
    for page in (ola, kari, per):
        page.join(channel)
    ola.wait(lambda: kari.user["id"] in ola.presence_ids(), "Kari is not online in Ola's list")

    # Ola starts it from the list of people online: Kari's row has the button.
    click_direct(ola, kari.user["id"])
    ola.wait(lambda: (ola.active_channel() or "").startswith("dm-"), "the direct channel did not open")
    direct = ola.active_channel()
    assert ola.d.find_element(By.ID, "channel-title").text == "Kari Hansen"
    assert not ola.d.find_element(By.ID, "leave-channel").is_displayed()
    assert ola.js("return document.activeElement.id") == "composer-input"
    assert ola.axe_violations() == []
    ola.send("Har du tid til en kaffe?")
    ola.wait_for_body("Har du tid til en kaffe?")

    # Kari is told by the `direct_channel` event: in her sidebar under Direct messages,
    # named for Ola, with the message unread.
    item = f'#direct-list [data-channel="{direct}"]'
    kari.wait(lambda: kari.d.find_elements(By.CSS_SELECTOR, item), "the direct channel did not reach Kari's sidebar")
    assert kari.d.find_element(By.CSS_SELECTOR, item).find_element(By.CSS_SELECTOR, ".channel-name").text == "Ola Nordmann"
    kari.wait(lambda: kari.js(
        f"const b = document.querySelector('{item} .badge'); return b && !b.hidden ? b.textContent : ''") == "1",
        "no unread count on the direct channel")
    kari.d.find_element(By.CSS_SELECTOR, item).click()
    kari.wait_for_body("Har du tid til en kaffe?")

    # The same pair gets the same channel, whoever asks.
    kari.open_channel(channel)
    kari.wait(lambda: ola.user["id"] in kari.presence_ids(), "Ola is not online in Kari's list")
    click_direct(kari, ola.user["id"])
    kari.wait(lambda: kari.active_channel() == direct, "Kari got another channel for the same pair")

    # Per, in the same channel, never hears of it.
    per.wait(lambda: per.state()["channels"].get(channel, {}).get("joined"), "Per is not in the channel")
    assert direct not in per.state()["channels"]
    assert per.d.find_elements(By.CSS_SELECTOR, item) == []
    assert ola.js_errors() == [] and kari.js_errors() == [] and per.js_errors() == []


FAKE_NOTIFICATIONS = """
window.__notes = [];
const startPermission = arguments[0];
window.Notification = class {
  static permission = startPermission;
  static async requestPermission() { window.Notification.permission = 'granted'; return 'granted'; }
  constructor(title, options) { window.__notes.push({title, body: options.body}); }
  close() {}
};
Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => window.__hidden ? 'hidden' : 'visible'});
"""


def test_people_at_completion_highlights_counts_and_notifies_a_mention(hub, browser):
    channel = unique(hub, "lager")
    other = unique(hub, "annet")
    ola = browser("ola-mention").sign_in("Ola Nordmann")
    kari = browser("kari-mention").sign_in("Kari Hansen")
    ola.join(channel)
    ola.join(other)
    kari.join(channel)
    # The browser's notifications, seen from the page (headless Chromium shows none):
    # not yet asked, so the page offers the button; Ola's tab then goes to the background.
    ola.js(FAKE_NOTIFICATIONS, "default")
    ola.open_channel(channel)
    ola.open_channel(other)  # the sidebar is drawn again, with the browser's answer as it is now
    button = ola.d.find_element(By.ID, "notify-enable")
    ola.wait(button.is_displayed, "no button that offers notifications")
    button.click()
    ola.wait(lambda: not button.is_displayed(), "the button stayed after the browser said yes")
    ola.js("window.__hidden = true")

    # Kari types @ and the start of Ola's name: the list offers him; Enter inserts his id.
    box = kari.composer()
    box.send_keys("Kan @nord")
    kari.wait(lambda: kari.d.find_element(By.ID, "mention-list").is_displayed(), "no @ list")
    options = kari.d.find_elements(By.CSS_SELECTOR, "#mention-list [role='option']")
    assert [o.find_element(By.CSS_SELECTOR, ".mention-option-id").text for o in options] == [f"@{ola.user['id']}"]
    assert box.get_attribute("aria-activedescendant") == options[0].get_attribute("id")
    assert kari.axe_violations() == []
    box.send_keys(Keys.ENTER)
    kari.wait(lambda: box.get_attribute("value") == f"Kan @{ola.user['id']} ", "Enter did not insert the id")
    assert not kari.d.find_element(By.ID, "mention-list").is_displayed()
    box.send_keys("ta varelevering kl. 14?", Keys.ENTER)
    body = f"Kan @{ola.user['id']} ta varelevering kl. 14?"
    kari.wait_for_body(body)

    # Ola, in another channel, gets the badge and a notification (his tab is hidden).
    ola.wait(lambda: ola.js(
        "const b = document.querySelector(`#channel-list [data-channel='${arguments[0]}'] .badge--mention`);"
        "return b && !b.hidden ? b.textContent : ''", channel) == "@1", "no mention badge")
    label = ola.d.find_element(By.CSS_SELECTOR, f'#channel-list [data-channel="{channel}"]').text
    assert ola.js("return window.__notes.length") == 1
    assert ola.js("return window.__notes[0].title") == f"Kari Hansen mentioned you in #{channel}"
    assert label  # the sidebar entry is still there

    # Reading the channel clears the badge; the mention is highlighted for him.
    ola.js("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    ola.open_channel(channel)
    ola.wait_for_body(body)
    mention = ola.message_element(body).find_element(By.CSS_SELECTOR, ".mention--me")
    assert mention.text == f"@{ola.user['id']}"
    ola.wait(lambda: ola.js(
        "const b = document.querySelector(`#channel-list [data-channel='${arguments[0]}'] .badge--mention`);"
        "return b.hidden", channel), "the mention badge stayed after reading")
    assert ola.js_errors() == [] and kari.js_errors() == []


def test_people_an_admin_deletes_anyones_message_and_edits_none(hub, browser):
    channel = unique(hub, "moderert")
    ola = browser("ola-moderated").sign_in("Ola Nordmann")
    ada = browser("ada-admin").sign_in("Ada Admin", role="admin")
    ola.join(channel)
    ada.join(channel)
    ola.send("Noe som ikke hører hjemme her")
    ada.wait_for_body("Noe som ikke hører hjemme her")

    theirs = ada.message_element("Noe som ikke hører hjemme her")
    assert theirs.find_elements(By.CSS_SELECTOR, "[data-action='edit']") == [], "an admin may not edit another's message"
    delete = theirs.find_element(By.CSS_SELECTOR, "[data-action='delete']")
    assert delete.get_attribute("aria-label") == "Delete the message from Ola Nordmann"
    ada.js("window.confirm = () => true")
    ada.js("arguments[0].click()", delete)
    ada.wait(lambda: "This message was deleted." in ada.bodies(), "the admin's page does not show the deletion")
    ola.wait(lambda: "This message was deleted." in ola.bodies(), "the author's page did not get message_deleted")
    assert ola.js_errors() == [] and ada.js_errors() == []


def test_people_browse_and_search_fit_a_phone(hub, browser):
    channel = unique(hub, "mobilkanal")
    hub.create_channel(channel, "public", "Kanal for mobilen")
    page = browser("people-phone", width=390, height=844).sign_in("Mona Mobil")
    page.open_nav_if_collapsed()
    page.d.find_element(By.ID, "nav-browse").click()
    page.wait(lambda: page.d.find_element(By.ID, "directory-view").is_displayed(), "the directory did not open")
    # By name: the hub of the whole suite has more channels than the first page holds.
    page.d.find_element(By.ID, "directory-query").send_keys(channel)
    page.wait(lambda: directory_names(page) == [channel], f"#{channel} not found")
    assert page.js("return document.documentElement.scrollWidth") <= 390
    assert page.axe_violations() == []
    # A word no test writes: every public channel is searched, on a hub the suite shares.
    page.d.find_element(By.ID, "search-input").send_keys(f"mobilfrie{hub.run_id}", Keys.ENTER)
    page.wait(lambda: page.d.find_element(By.ID, "search-view").is_displayed(), "the results did not open")
    page.wait(lambda: page.d.find_element(By.ID, "search-empty").is_displayed(), "no word for no results")
    assert page.js("return document.documentElement.scrollWidth") <= 390
    assert page.axe_violations() == []
    assert page.js_errors() == []
