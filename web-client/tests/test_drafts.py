"""Two client items of issue 17: an urgent announcement to everyone asks "send to N
people?" before it goes, and a draft (message box, announcement form) is never lost to
Escape or a reload."""

from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def open_announce_form(page):
    page.d.find_element(By.ID, "nav-announcements").click()
    page.wait(lambda: page.d.find_element(By.ID, "announce-new").is_displayed(), "no New announcement button")
    page.d.find_element(By.ID, "announce-new").click()
    page.wait(lambda: page.d.find_elements(By.ID, "announce-title"), "no announcement form")


def test_escape_and_a_reload_keep_the_announcement_draft(hub, browser):
    leader = browser("draft-leader").sign_in("Liv Leder", role="leader")
    open_announce_form(leader)
    title = f"Strømstans fredag 07–09 ({hub.run_id})"
    leader.d.find_element(By.ID, "announce-title").send_keys(title)
    leader.d.find_element(By.ID, "announce-body").send_keys("Lagre arbeidet ditt torsdag kveld.")
    leader.d.find_element(By.CSS_SELECTOR, "#announce-priority option[value='important']").click()

    ActionChains(leader.d).send_keys(Keys.ESCAPE).perform()
    leader.wait(lambda: not leader.d.find_elements(By.ID, "announce-title"), "Escape did not close the form")
    assert leader.d.switch_to.active_element.get_attribute("id") == "announce-new", "focus did not return to the button"

    leader.d.find_element(By.ID, "announce-new").click()
    leader.wait(lambda: leader.d.find_elements(By.ID, "announce-title"), "the form did not open again")
    assert leader.d.find_element(By.ID, "announce-title").get_attribute("value") == title
    assert leader.d.find_element(By.ID, "announce-priority").get_attribute("value") == "important"

    leader.d.refresh()
    leader.wait_connected()
    open_announce_form(leader)
    assert leader.d.find_element(By.ID, "announce-title").get_attribute("value") == title, "a reload lost the draft"
    assert leader.d.find_element(By.ID, "announce-body").get_attribute("value") == "Lagre arbeidet ditt torsdag kveld."

    # Discard is the way to throw it away.
    leader.d.find_element(By.ID, "announce-discard").click()
    leader.d.find_element(By.ID, "announce-new").click()
    leader.wait(lambda: leader.d.find_elements(By.ID, "announce-title"), "the form did not open again")
    assert leader.d.find_element(By.ID, "announce-title").get_attribute("value") == ""


def test_the_message_box_keeps_its_draft_through_escape_and_a_reload(hub, browser):
    page = browser("draft-member").sign_in("Mari Medlem")
    channel = f"drafts-{hub.run_id}"
    page.join(channel)
    page.composer().send_keys("Halvskrevet tanke")
    ActionChains(page.d).send_keys(Keys.ESCAPE).perform()
    assert page.composer().get_attribute("value") == "Halvskrevet tanke"
    page.d.refresh()
    page.wait_connected()
    page.wait(lambda: page.active_channel() == channel, "the channel did not open again")
    assert page.composer().get_attribute("value") == "Halvskrevet tanke", "a reload lost the draft"


def test_an_urgent_announcement_to_everyone_asks_how_many_people_first(hub, browser):
    admin = browser("ask-admin").sign_in("Ada Admin", role="admin")
    # A first announcement to everyone gives the page its figure.
    token = admin.user["token"]
    status, body = hub.http("POST", "/api/v1/announcements", token, {
        "title": f"Velkommen ({hub.run_id})", "body": "Hei alle.", "audience": {"all": True}, "priority": "normal", "require_ack": False})
    assert status == 201, body
    audience = body["announcement"]["audience_count"]
    assert audience >= 1

    open_announce_form(admin)
    admin.wait(lambda: admin.js("return document.querySelectorAll('#sent-list .reach').length") >= 1, "the reach list did not load")
    title = f"Brann i 3. etasje ({hub.run_id})"
    admin.d.find_element(By.ID, "announce-title").send_keys(title)
    admin.d.find_element(By.ID, "announce-body").send_keys("Gå ut nå.")
    admin.d.find_element(By.CSS_SELECTOR, "#announce-priority option[value='urgent']").click()
    admin.d.find_element(By.ID, "announce-submit").click()

    question = admin.d.find_element(By.ID, "announce-confirm-text")
    admin.wait(question.is_displayed, "no question before sending")
    people = f"{audience} {'person' if audience == 1 else 'people'}"
    assert people in question.text, question.text
    assert admin.d.switch_to.active_element.get_attribute("id") == "announce-confirm-send"

    # Escape steps back to the form, with nothing sent and nothing lost.
    ActionChains(admin.d).send_keys(Keys.ESCAPE).perform()
    admin.wait(lambda: not question.is_displayed(), "Escape did not step back")
    assert admin.d.find_element(By.ID, "announce-title").get_attribute("value") == title
    status, listed = hub.http("GET", "/api/v1/announcements?limit=5", token)
    assert title not in [a["title"] for a in listed["announcements"]], "it went before the answer"

    admin.d.find_element(By.ID, "announce-submit").click()
    admin.wait(question.is_displayed, "no question the second time")
    admin.d.find_element(By.ID, "announce-confirm-send").click()
    admin.wait(lambda: not admin.d.find_elements(By.ID, "announce-title"), "the form stayed after sending")
    status, listed = hub.http("GET", "/api/v1/announcements?limit=5", token)
    assert [a["title"] for a in listed["announcements"]].count(title) == 1
