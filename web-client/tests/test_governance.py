"""Browser tests of governance (protocol.md §9): the admin's Members panel of a
private channel, the `removed` event, and a ban (close 4500 `banned`).

Run only these with `-k governance`, or the panel's with `-k members`.
"""

from __future__ import annotations

import json
import urllib.parse

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def unique(hub, prefix: str) -> str:
    return f"{prefix}-{hub.run_id}"


def shown(page, element_id: str) -> bool:
    found = page.d.find_elements(By.ID, element_id)
    return bool(found) and found[0].is_displayed()


def text_of(page, element_id: str) -> str:
    return page.d.find_element(By.ID, element_id).text


def sidebar_channels(page) -> list[str]:
    return page.js("return [...document.querySelectorAll('#channel-list [data-channel]')].map(e => e.dataset.channel)")


def member_ids(page) -> list[str]:
    return page.js("return [...document.querySelectorAll('#members-list .member')].map(e => e.dataset.userId)")


def active_id(page) -> str:
    return page.js("return document.activeElement && (document.activeElement.id || document.activeElement.dataset.action || document.activeElement.dataset.userId || '')")


def open_members(page, channel: str):
    page.open_channel(channel)
    button = page.d.find_element(By.ID, "members-open")
    page.wait(button.is_displayed, f"{page.label}: no Members button in the private channel #{channel}")
    button.click()
    page.wait(lambda: shown(page, "members-view"), f"{page.label}: the Members panel did not open")
    assert active_id(page) == "members-title", "focus did not move to the panel's heading"
    page.wait(lambda: page.js("return document.getElementById('members-list').getAttribute('aria-busy')") == "false" and member_ids(page),
              f"{page.label}: the member list did not load")


def member_row(page, user_id: str):
    return page.d.find_element(By.CSS_SELECTOR, f"#members-list .member[data-user-id='{user_id}']")


def admin_http(hub, method: str, path: str, body=None):
    admin = hub.token(hub.user_id("root"), "Hub Admin", "admin")
    return hub.http(method, path, admin, body)


# ---- the Members panel ---------------------------------------------------------------


def test_members_panel_adds_ola_who_can_then_join_and_removing_her_ends_her_access(hub, browser):
    channel = unique(hub, "board")
    hub.create_channel(channel, "private", "Styret")

    ola = browser("ola-members").sign_in("Ola Hansen")
    ola.join("general")
    # Before she is added, the private channel refuses her.
    field = ola.d.find_element(By.ID, "join-name")
    field.send_keys(channel, Keys.ENTER)
    ola.wait(lambda: "cannot join" in text_of(ola, "join-error"), "a private channel let Ola in before she was added")

    admin = browser("admin-members").sign_in("Kari Nordmann", role="admin")
    admin.join(channel)
    admin.join("general")
    # Only in a private channel, and only for an admin.
    assert not admin.d.find_element(By.ID, "members-open").is_displayed(), "Members offered in a public channel"
    open_members(admin, channel)
    assert admin.user["id"] in member_ids(admin)
    assert "Members of #" + channel in admin.d.title

    # Add Ola by her user id, with the keyboard.
    box = admin.d.find_element(By.ID, "member-add-id")
    box.click()
    box.send_keys(ola.user["id"], Keys.ENTER)
    admin.wait(lambda: ola.user["id"] in member_ids(admin), "Ola not listed after adding her")
    admin.wait(lambda: f"Added Ola Hansen ({ola.user['id']}) to #{channel}." in text_of(admin, "members-status"), "no result announced")
    assert admin.js("return document.getElementById('members-status').getAttribute('role')") == "status"
    assert active_id(admin) == "member-add-id", "focus should stay in the id field for the next one"
    assert "Online" in member_row(admin, ola.user["id"]).text

    # Adding her again is harmless, and says so.
    box.send_keys(ola.user["id"], Keys.ENTER)
    admin.wait(lambda: "was already a member" in text_of(admin, "members-status"), "a second grant not reported as such")
    admin.screenshot("20-members-panel")

    # Ola can now join the channel and see what is said there.
    ola.join(channel)
    assert channel in sidebar_channels(ola)
    ola.send(f"Takk for at jeg fikk bli med i styret ({hub.run_id})")
    ola.wait_for_body(f"Takk for at jeg fikk bli med i styret ({hub.run_id})")

    # The admin removes her: a confirmation first, focus on its safe choice.
    row = member_row(admin, ola.user["id"])
    row.find_element(By.CSS_SELECTOR, "[data-action='remove']").click()
    admin.wait(lambda: admin.d.find_elements(By.CSS_SELECTOR, ".member--confirming [data-action='confirm-remove']"), "no confirmation")
    assert active_id(admin) == "cancel-remove"
    confirm_text = admin.d.find_element(By.CSS_SELECTOR, ".member--confirming .member-confirm-text").text
    assert f"Remove Ola Hansen from #{channel}?" in confirm_text
    violations = admin.axe_violations()
    assert violations == [], "\n".join(violations)
    # Escape backs out, and focus returns to the Remove button.
    ActionChains(admin.d).send_keys(Keys.ESCAPE).perform()
    admin.wait(lambda: not admin.d.find_elements(By.CSS_SELECTOR, ".member--confirming"), "Escape did not cancel")
    assert active_id(admin) == "remove"
    assert shown(admin, "members-view"), "Escape in a confirmation must not close the panel"

    member_row(admin, ola.user["id"]).find_element(By.CSS_SELECTOR, "[data-action='remove']").click()
    admin.wait(lambda: admin.d.find_elements(By.CSS_SELECTOR, ".member--confirming [data-action='confirm-remove']"), "no confirmation")
    admin.d.find_element(By.CSS_SELECTOR, ".member--confirming [data-action='confirm-remove']").click()
    admin.wait(lambda: ola.user["id"] not in member_ids(admin), "Ola still listed after removing her")
    admin.wait(lambda: f"Removed Ola Hansen ({ola.user['id']}) from #{channel}." in text_of(admin, "members-status"), "removal not announced")
    assert admin.js("return document.activeElement !== document.body"), "focus was lost after the removal"

    # Ola's session: the notice says why, and the channel has left her sidebar.
    ola.wait(lambda: shown(ola, "notice-view"), "Ola was not told she was removed")
    ola.wait(lambda: f"An admin removed you from #{channel}." in text_of(ola, "notice-text"), "the notice does not say why")
    assert channel not in sidebar_channels(ola)
    assert channel not in ola.state()["channels"]
    assert active_id(ola) == "notice-title", "focus should move to the notice (it was in the channel view)"
    ola.screenshot("21-removed-notice")
    violations = ola.axe_violations()
    assert violations == [], "\n".join(violations)

    # A reconnect does not bring it back, and joining again is refused.
    connects = ola.state()["connects"]
    ola.js("window.__dugnad.debugDropConnection()")
    ola.wait(lambda: ola.state()["connects"] > connects and ola.connection() == "ready", "Ola did not reconnect", timeout=30)
    ola.wait(lambda: ola.state()["channels"].get("general", {}).get("joined"), "#general not rejoined")
    assert channel not in ola.state()["channels"]
    assert channel not in sidebar_channels(ola)
    field = ola.d.find_element(By.ID, "join-name")
    field.send_keys(channel, Keys.ENTER)
    ola.wait(lambda: "cannot join" in text_of(ola, "join-error"), "Ola could join again after being removed")

    # Back closes the panel and returns focus to the Members button.
    admin.d.find_element(By.ID, "members-back").click()
    admin.wait(lambda: admin.active_channel() == channel, "Back did not return to the channel")
    assert active_id(admin) == "members-open"
    assert ola.js_errors() == [] and admin.js_errors() == []


def test_members_panel_removal_of_another_channel_is_a_notice_not_a_jump(hub, browser):
    """Removed from a channel she is not looking at: a toast, and the sidebar updates."""
    channel = unique(hub, "lonn")
    hub.create_channel(channel, "private", "Lønn")
    per = browser("per-members").sign_in("Per Olsen")
    status, _ = admin_http(hub, "PUT", f"/api/v1/channels/{channel}/members/{urllib.parse.quote(per.user['id'])}")
    assert status == 201
    per.join(channel)
    per.join("general")
    status, _ = admin_http(hub, "DELETE", f"/api/v1/channels/{channel}/members/{urllib.parse.quote(per.user['id'])}")
    assert status == 204
    per.wait(lambda: channel not in sidebar_channels(per), "the channel stayed in the sidebar")
    per.wait(lambda: f"An admin removed you from #{channel}." in text_of(per, "toasts"), "no toast for the removal")
    assert per.active_channel() == "general", "the view should stay where it was"


def test_members_panel_pages_with_show_more(hub, browser):
    channel = unique(hub, "many")
    hub.create_channel(channel, "private", "Mange")
    admin_token = hub.token(hub.user_id("root"), "Hub Admin", "admin")
    ids = [f"ansatt-{hub.run_id}-{i:02d}" for i in range(1, 56)]
    for user_id in ids:
        status, body = hub.http("PUT", f"/api/v1/channels/{channel}/members/{user_id}", admin_token)
        assert status == 201, body

    admin = browser("admin-paging").sign_in("Ingrid Berg", role="admin")
    admin.join(channel)
    open_members(admin, channel)
    first = member_ids(admin)
    assert len(first) == 50
    more = admin.d.find_element(By.ID, "members-more")
    assert more.is_displayed()
    assert "there are more" in text_of(admin, "members-status")
    more.click()
    admin.wait(lambda: len(member_ids(admin)) == 56, "the second page did not load")
    assert sorted(member_ids(admin)) == sorted(ids + [admin.user["id"]])
    assert not more.is_displayed(), "Show more stays after the last page"
    # Focus goes to the first row of the new page.
    assert active_id(admin) == member_ids(admin)[50]
    assert "Has not signed in yet" in member_row(admin, ids[-1]).text


def test_members_panel_explains_errors_in_words(hub, browser):
    channel = unique(hub, "errors")
    hub.create_channel(channel, "private", "Feil")
    admin = browser("admin-errors").sign_in("Ingrid Berg", role="admin")
    admin.join(channel)
    open_members(admin, channel)
    box = admin.d.find_element(By.ID, "member-add-id")

    # Checked before anything is sent.
    box.send_keys(Keys.ENTER)
    admin.wait(lambda: "Type the user id" in text_of(admin, "member-add-error"), "an empty id was not explained")
    assert box.get_attribute("aria-invalid") == "true"

    # An id the hub has never seen is added (it may be someone still to sign in), with a warning.
    box.send_keys(f"ukjent-{hub.run_id}", Keys.ENTER)
    admin.wait(lambda: "does not know anyone with this id yet" in text_of(admin, "members-status"), "an unknown id not flagged")
    assert "Has not signed in yet" in member_row(admin, f"ukjent-{hub.run_id}").text
    assert box.get_attribute("aria-invalid") is None

    # What the hub answers, as it would answer: the page's fetch is stood in for,
    # since a channel cannot vanish and an admin cannot lose the role mid-session.
    def hub_answers(status: int, code: str, message: str):
        admin.js(
            "const [status, body] = arguments;"
            "window.fetch = () => Promise.resolve(new Response(body, {status, headers: {'Content-Type': 'application/json'}}));",
            status,
            json.dumps({"error": {"code": code, "message": message}}),
        )

    hub_answers(404, "not_found", f"no channel '{channel}'")
    box.clear()
    box.send_keys("ola", Keys.ENTER)
    admin.wait(lambda: f"there is no channel called #{channel}" in text_of(admin, "member-add-error"), "404 not explained")
    assert admin.js("return document.getElementById('member-add-error').getAttribute('role')") == "alert"

    hub_answers(403, "forbidden", "only admins may do this")
    box.send_keys(Keys.ENTER)
    admin.wait(lambda: "you are not allowed to do this. Only admins" in text_of(admin, "member-add-error"), "403 not explained")

    hub_answers(429, "rate_limited", "too many requests for this key")
    admin.d.find_element(By.ID, "members-back").click()
    admin.wait(lambda: admin.active_channel() == channel, "Back did not return to the channel")
    admin.d.find_element(By.ID, "members-open").click()
    admin.wait(lambda: "too many requests just now" in text_of(admin, "members-error"), "a failed list load not explained")
    violations = admin.axe_violations()
    assert violations == [], "\n".join(violations)


# ---- a ban ---------------------------------------------------------------------------


def test_a_banned_user_sees_the_suspended_screen_and_does_not_reconnect(hub, browser):
    page = browser("banned").sign_in("Bjørn Utestengt")
    page.join("general")
    assert page.state()["connects"] == 1

    status, body = admin_http(hub, "POST", f"/api/v1/users/{urllib.parse.quote(page.user['id'])}/ban", {"reason": "test"})
    assert status == 200, body

    page.wait(lambda: shown(page, "stopped"), "no suspended screen after the ban")
    assert text_of(page, "stopped-title") == "Your account has been suspended"
    page.wait(lambda: "will not reconnect" in text_of(page, "stopped-text"), "the screen does not say it stays disconnected")
    assert not page.d.find_element(By.ID, "app").is_displayed()
    assert active_id(page) == "stopped-title"
    state = page.state()
    assert state["stopped"] == {"code": 4500, "reason": "banned"}
    assert state["connection"] == "stopped" and not state["reconnectScheduled"]
    assert page.js("return sessionStorage.getItem('dugnad.token')") is None
    page.screenshot("22-suspended")

    # What would wake a waiting connection opens nothing now.
    page.js(
        "window.dispatchEvent(new Event('online'));"
        "document.dispatchEvent(new Event('visibilitychange'));"
        "window.__dugnad.debugReconnect();"
    )
    assert page.state()["connects"] == 1, "the page opened another socket after 4500"
    assert shown(page, "stopped")
    violations = page.axe_violations()
    assert violations == [], "\n".join(violations)

    # A new page with the same token is refused at once, with the same screen.
    page.d.get("about:blank")  # a fresh page load, not a same-page fragment change
    page.d.get(hub.sign_in_url(page.user["token"]))
    page.wait(lambda: shown(page, "stopped"), "a banned token was not refused on a new connection")
    assert page.state()["connects"] == 1
    assert "suspended" in text_of(page, "stopped-title")
    assert page.js_errors() == []
