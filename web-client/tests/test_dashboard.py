"""The engagement dashboard, the reach view from the hub and the language switch.

These tests run against their own hub whose data folder `dugnad demo` seeded first
(Fjordkraft Verksted AS: 40 people, goals, announcements with receipts), so the figures
are those of a known company. The dashboard is compared with what the hub's HTTP API
answers the same person; the goals with the targets the demo sets.
"""

from __future__ import annotations

import secrets
import subprocess
import unicodedata

import pytest
from selenium.webdriver.common.by import By

from conftest import HubStartError, Page, hub_binary, open_pages, start_hub, stop_hub

# What `dugnad demo` sets (Sources/dugnad/DemoCompany.swift).
DEMO_TARGETS = {
    "weekly_active_pct": 80,
    "announcement_read_within_24h_pct": 90,
    "announcement_ack_within_24h_pct": 75,
    "leader_posts_per_week": 5,
    "channels_with_activity_pct": 70,
}
KARI = ("kari.nordmann", "Kari Nordmann", ["leader"])
HENRIK = ("henrik.nilsen", "Henrik Nilsen", ["leader"])
OLA = ("ola.hansen", "Ola Hansen", [])
ADMIN = ("admin", "Local admin", ["admin", "leader"])


@pytest.fixture(scope="module")
def demo_hub(tmp_path_factory, output_dir):
    data = tmp_path_factory.mktemp("demo-data")
    seeded = subprocess.run([str(hub_binary()), "demo", "--data-dir", str(data)], capture_output=True, text=True, timeout=600)
    if seeded.returncode != 0:
        pytest.fail(f"`dugnad demo` failed ({seeded.returncode}): {seeded.stderr.strip()}")
    try:
        the_hub = start_hub(hub_binary(), data, output_dir / "hub-demo.log")
    except HubStartError as err:
        pytest.fail(str(err))
    yield the_hub
    stop_hub(the_hub)


@pytest.fixture
def demo_browser(demo_hub, output_dir):
    """Factory: `demo_browser("kari")` is a headless Chromium against the demo hub."""
    yield from open_pages(demo_hub, output_dir, height=900)


def sign_in_as(page: Page, person) -> Page:
    sub, name, roles = person
    token = page.hub.token(sub, name, roles=roles)
    page.user = {"id": sub, "name": name, "token": token}
    page.d.get(page.hub.sign_in_url(token))
    page.wait_connected()
    return page


def api(page: Page, path: str, method: str = "GET", body=None):
    status, answer = page.hub.http(method, path, page.user["token"], body)
    assert status == 200, f"{method} {path} answered {status}: {answer}"
    return answer


def plain(text: str) -> str:
    """Text with the no-break and narrow spaces Intl puts in numbers made ordinary."""
    return unicodedata.normalize("NFKC", text).replace("\u202f", " ").replace("\u00a0", " ")


def open_dashboard(page: Page):
    button = page.d.find_element(By.ID, "nav-dashboard")
    page.wait(lambda: button.is_displayed(), f"{page.label}: no Dashboard button")
    button.click()
    page.wait(lambda: page.d.find_elements(By.CSS_SELECTOR, "#dash-goals .goal"), f"{page.label}: the dashboard shows no goals")
    page.wait(lambda: page.d.find_element(By.ID, "dashboard-content").get_attribute("aria-busy") == "false", "the dashboard is still loading")


def cell_texts(page: Page, table: str, stat: str) -> dict[str, str]:
    """{row key: text of [data-stat=stat]} for the rows of a dashboard table."""
    return page.js(
        "const out = {};"
        "for (const row of document.querySelectorAll(`#${arguments[0]} tbody tr`)) {"
        "  const key = row.dataset.channel || row.dataset.announcementId;"
        "  const cell = row.querySelector(`[data-stat='${arguments[1]}']`);"
        "  if (key && cell) out[key] = cell.textContent; }"
        "return out;",
        table,
        stat,
    )


def goal_target(page: Page, metric: str) -> str:
    els = page.d.find_elements(By.CSS_SELECTOR, f"#dash-goals [data-metric='{metric}'] [data-stat='target']")
    return plain(els[0].text) if els else ""


# ---- the dashboard ----------------------------------------------------------------


def test_a_leader_sees_the_demo_companys_figures_goals_and_csv(demo_browser):
    kari = sign_in_as(demo_browser("kari"), KARI)
    open_dashboard(kari)

    # Goals: every target the demo set, as progress, with an 8-week sparkline; no editing for a leader.
    for metric, target in DEMO_TARGETS.items():
        kari.wait(lambda: goal_target(kari, metric) == (f"{target}%" if metric.endswith("_pct") else str(target)), f"goal {metric} does not show its target {target}")
    goals = {g["metric"]: g for g in api(kari, "/api/v1/goals")["goals"]}
    current = kari.js("return document.querySelector(\"[data-metric='weekly_active_pct'] [data-stat='current']\").textContent")
    assert plain(current) == f"{goals['weekly_active_pct']['current']:g}%"
    assert len(kari.d.find_elements(By.CSS_SELECTOR, "#dash-goals svg.sparkline[role='img']")) == len(DEMO_TARGETS)
    assert not kari.d.find_elements(By.CSS_SELECTOR, "[data-action='edit-goal']"), "a leader is offered to change targets"

    # Per channel and per announcement: the hub's figures for the last 30 days, as Kari may see them.
    stats = api(kari, "/api/v1/stats?days=30")
    assert cell_texts(kari, "channels-table", "messages") == {c["channel"]: f"{c['messages']:,}" for c in stats["channels"]}
    assert cell_texts(kari, "channels-table", "readers") == {c["channel"]: str(c["active_readers"]) for c in stats["channels"]}
    reach = {a["id"]: a for a in stats["announcements"]}
    shown = {k: plain(v) for k, v in cell_texts(kari, "reach-table", "read_pct").items()}
    assert shown == {i: f"{a['read_pct']:g}%" for i, a in reach.items()}
    bars = kari.d.find_elements(By.CSS_SELECTOR, "#dash-active svg.bar-chart .bar-rect")
    assert len(bars) == len(stats["daily_active_users"])
    alt = kari.d.find_element(By.CSS_SELECTOR, "#dash-active svg.bar-chart").get_attribute("aria-label")
    assert "Bar chart of active people per day" in alt

    # Another period: 7 days answers other figures (the demo's first announcements are older).
    kari.d.find_element(By.CSS_SELECTOR, "label[for='days-7']").click()
    week = api(kari, "/api/v1/stats?days=7")
    kari.wait(lambda: len(kari.d.find_elements(By.CSS_SELECTOR, "#reach-table tbody tr")) == len(week["announcements"]), "7 days did not reload the figures")
    kari.wait(lambda: len(kari.d.find_elements(By.CSS_SELECTOR, "#dash-active .bar-rect")) == len(week["daily_active_users"]), "7 days did not redraw the chart")

    # CSV, made in the page.
    kari.d.find_element(By.CSS_SELECTOR, "[data-action='csv-channels']").click()
    kari.wait(lambda: kari.js("return window.__dugnad.lastDownload()"), "no CSV was made")
    download = kari.js("return window.__dugnad.lastDownload()")
    assert download["name"] == "dugnad-channels-7d.csv"
    lines = download["text"].strip().split("\r\n")
    assert lines[0] == "channel,messages,active_posters,active_readers"
    assert lines[1:] == [f"{c['channel']},{c['messages']},{c['active_posters']},{c['active_readers']}" for c in week["channels"]]

    kari.screenshot("dashboard-leader")
    violations = kari.axe_violations()
    assert violations == [], "\n".join(violations)
    assert kari.js_errors() == []


def test_a_member_has_no_dashboard(demo_browser):
    ola = sign_in_as(demo_browser("ola"), OLA)
    ola.wait(lambda: ola.d.find_elements(By.CSS_SELECTOR, "#channel-list [data-channel='general']"), "Ola's channels never showed")
    assert not ola.d.find_element(By.ID, "nav-dashboard").is_displayed()
    # Even asked for by name (a stored view), the page does not open it for a member.
    ola.js("sessionStorage.setItem('dugnad.active', '@dashboard')")
    ola.d.refresh()
    ola.wait_connected()
    ola.wait(lambda: (ola.state().get("view") or {}).get("kind") not in (None, "dashboard"), "no view after reload")
    assert ola.d.find_element(By.ID, "dashboard-view").get_attribute("hidden") is not None
    status, _ = ola.hub.http("GET", "/api/v1/stats", ola.user["token"])
    assert status == 403


def test_an_admin_changes_a_goal_target_and_the_dashboard_shows_it(demo_browser):
    admin = sign_in_as(demo_browser("goal-admin"), ADMIN)
    open_dashboard(admin)
    metric = "leader_posts_per_week"
    card = f"#dash-goals [data-metric='{metric}']"
    toggle = admin.d.find_element(By.CSS_SELECTOR, f"{card} [data-action='edit-goal']")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    field = admin.d.find_element(By.ID, f"goal-{metric}-input")
    admin.wait(lambda: admin.js("return document.activeElement && document.activeElement.id") == f"goal-{metric}-input", "the target field did not take focus")

    # A word is not a target: the error says so and nothing is sent.
    field.clear()
    field.send_keys("mange")
    admin.d.find_element(By.CSS_SELECTOR, f"{card} [data-action='save-goal']").click()
    admin.wait(lambda: "as a number" in admin.d.find_element(By.ID, f"goal-{metric}-error").text, "no error for a target that is not a number")
    assert {g["metric"]: g["target"] for g in api(admin, "/api/v1/goals")["goals"]}[metric] == DEMO_TARGETS[metric]

    field = admin.d.find_element(By.ID, f"goal-{metric}-input")
    field.clear()
    field.send_keys("12")
    admin.d.find_element(By.CSS_SELECTOR, f"{card} [data-action='save-goal']").click()
    admin.wait(lambda: goal_target(admin, metric) == "12", "the dashboard does not show the new target")
    admin.wait(lambda: admin.js("return document.activeElement && document.activeElement.dataset.action") == "edit-goal", "focus did not return to Change target")
    assert "is now 12" in admin.d.find_element(By.ID, "dashboard-status").get_attribute("textContent")

    # The whole set went to the hub: this target changed, the others stayed.
    targets = {g["metric"]: g["target"] for g in api(admin, "/api/v1/goals")["goals"]}
    assert targets == {**DEMO_TARGETS, metric: 12}
    # A leader reloading sees it too.
    kari = sign_in_as(demo_browser("goal-kari"), KARI)
    open_dashboard(kari)
    kari.wait(lambda: goal_target(kari, metric) == "12", "a leader does not see the new target")
    # Put it back for the other tests of this module.
    api(admin, "/api/v1/goals", "PUT", {"goals": [{"metric": m, "target": t} for m, t in DEMO_TARGETS.items()]})


# ---- the reach view -----------------------------------------------------------------


def test_the_reach_view_comes_from_the_hub_and_names_who_has_not_acknowledged(demo_browser):
    henrik = sign_in_as(demo_browser("henrik"), HENRIK)
    henrik.d.find_element(By.ID, "nav-announcements").click()
    mine = api(henrik, "/api/v1/announcements?author=me")["announcements"]
    assert {a["title"] for a in mine} == {"Brannøvelse torsdag kl. 10", "Strømstans fredag 07–09"}
    # A fresh browser: the list is the hub's (nothing was sent from here), newest first.
    henrik.wait(
        lambda: [e.text for e in henrik.d.find_elements(By.CSS_SELECTOR, "#sent-list .reach-title")] == [a["title"] for a in mine],
        "the reach view does not list Henrik's announcements from the hub",
    )
    drill = next(a for a in mine if a["title"].startswith("Strømstans"))
    item = f"#sent-list .reach[data-announcement-id='{drill['id']}']"
    toggle = henrik.d.find_element(By.CSS_SELECTOR, f"{item} [data-action='receipts-unacked']")
    missing = drill["stats"]["audience"] - drill["stats"]["acked"]
    assert f"{missing} have not acknowledged" in toggle.text
    toggle.click()

    expected, after = [], None
    while True:
        page = api(henrik, f"/api/v1/announcements/{drill['id']}/receipts?state=unacked&limit=100" + (f"&after={after}" if after else ""))
        expected += [u["name"] for u in page["users"]]
        if not page["has_more"]:
            break
        after = page["users"][-1]["id"]
    assert len(expected) == missing
    henrik.wait(
        lambda: [e.text for e in henrik.d.find_elements(By.CSS_SELECTOR, f"{item} .receipts[data-state='unacked'] .receipts-name")] == expected,
        "the names of who has not acknowledged are not listed",
    )
    # The list is drawn again as figures move: find the button afresh.
    toggle = henrik.d.find_element(By.CSS_SELECTOR, f"{item} [data-action='receipts-unacked']")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert henrik.js("return document.activeElement && document.activeElement.dataset.action") == "receipts-unacked"

    henrik.d.find_element(By.CSS_SELECTOR, f"{item} [data-action='remind']").click()
    henrik.wait(lambda: f"Reminded {missing} people" in henrik.d.find_element(By.CSS_SELECTOR, item).text, "Remind did not go to exactly those people")

    henrik.screenshot("reach-from-hub")
    violations = henrik.axe_violations()
    assert violations == [], "\n".join(violations)
    assert henrik.js_errors() == []


# ---- language -------------------------------------------------------------------------


def test_the_language_switch_turns_the_dashboard_into_bokmal_and_back(demo_browser):
    kari = sign_in_as(demo_browser("kari-nb"), KARI)
    open_dashboard(kari)
    headings = lambda: [e.text for e in kari.d.find_elements(By.CSS_SELECTOR, "#dashboard-view h1, #dashboard-view h2.dash-title")]  # noqa: E731
    assert headings()[:3] == ["Engagement", "Goals", "Active people per day"]

    switch = kari.d.find_element(By.ID, "lang-switch")
    assert switch.text == "Norsk" and switch.get_attribute("lang") == "nb"
    switch.click()
    kari.wait(lambda: headings()[:3] == ["Engasjement", "Mål", "Aktive personer per dag"], "the dashboard's headings are not in bokmål")
    assert kari.d.find_element(By.ID, "nav-dashboard").text == "Oversikt"
    assert kari.js("return document.documentElement.lang") == "nb"
    # Numbers as Norwegians write them: "80 %" with a space.
    assert goal_target(kari, "weekly_active_pct") == "80 %"
    kari.screenshot("dashboard-nb")
    violations = kari.axe_violations()
    assert violations == [], "\n".join(violations)

    # Remembered across a reload.
    kari.d.refresh()
    kari.wait_connected()
    kari.wait(lambda: kari.d.find_element(By.ID, "dashboard-title").text == "Engasjement", "bokmål was not remembered")

    switch = kari.d.find_element(By.ID, "lang-switch")
    assert switch.text == "English"
    switch.click()
    kari.wait(lambda: headings()[:3] == ["Engagement", "Goals", "Active people per day"], "the headings did not switch back to English")
    assert goal_target(kari, "weekly_active_pct") == "80%"
    assert kari.js_errors() == []


def test_the_dashboard_fits_a_phone(demo_browser):
    admin = sign_in_as(demo_browser("dash-phone", width=390, height=844), ADMIN)
    open_dashboard(admin)
    admin.wait(lambda: admin.d.find_elements(By.CSS_SELECTOR, "#reach-table tbody tr"), "no announcement reach on the phone")
    assert admin.js("return window.innerWidth") == 390
    width = admin.js("return document.documentElement.scrollWidth")
    assert width <= 390, f"the dashboard scrolls sideways at phone width ({width}px)"
    admin.screenshot("dashboard-phone")


def test_a_norwegian_browser_gets_bokmal_everywhere_and_can_switch_to_english(demo_browser):
    # A new hire at her first sign-in: "Strømstans fredag 07–09" is still current, so she gets it too.
    nina = sign_in_as(demo_browser("nina-nb", lang="nb-NO"), (f"nina.ny-{secrets.token_hex(3)}", "Nina Ny", []))
    text = lambda element_id: nina.d.find_element(By.ID, element_id).text  # noqa: E731
    assert nina.js("return document.documentElement.lang") == "nb"
    assert text("channels-heading") == "KANALER"  # shown in capitals by the style sheet
    assert text("nav-announcements").startswith("Kunngjøringer")
    assert text("signout") == "Logg ut"
    assert text("lang-switch") == "English"
    nina.join("general")
    nina.wait(lambda: nina.composer().get_attribute("placeholder") == "Melding til #general", "the message box is not in bokmål")
    nina.wait(lambda: text("channel-meta").startswith("Åpen kanal"), "the channel's kind is not in bokmål")
    nina.wait(lambda: "Strømstans fredag 07–09" in text("announcement-banner"), "the new hire did not get the current announcement")
    assert "Trenger bekreftelsen din" in text("announcement-banner")
    assert "Bekreft" in [b.text for b in nina.d.find_elements(By.CSS_SELECTOR, "#announcement-banner [data-action='ack']")]
    violations = nina.axe_violations()
    assert violations == [], "\n".join(violations)

    nina.d.find_element(By.ID, "lang-switch").click()
    nina.wait(lambda: text("signout") == "Sign out", "the header did not switch to English")
    nina.wait(lambda: nina.composer().get_attribute("placeholder") == "Message #general", "the message box did not switch to English")
    assert "Needs your acknowledgement" in text("announcement-banner")
    assert nina.js_errors() == []
