"""Default channels in the web client: a person signing in for the first time finds the
hub's default channel (`general`, as `dugnad serve` defaults to) in the sidebar, without
guessing a name, and can write in it."""
from __future__ import annotations

import pytest
from conftest import HubStartError, Page, hub_binary, new_driver, start_hub, stop_hub
from selenium.webdriver.common.by import By


@pytest.fixture(scope="module")
def default_hub(tmp_path_factory, output_dir):
    try:
        the_hub = start_hub(hub_binary(), tmp_path_factory.mktemp("defaults") / "data", output_dir / "hub-defaults.log")
    except HubStartError as err:
        pytest.fail(str(err))
    yield the_hub
    stop_hub(the_hub)


def test_a_first_sign_in_finds_the_default_channel_in_the_sidebar(default_hub, output_dir):
    page = Page(new_driver(), default_hub, output_dir, "defaults-ola")
    try:
        ola = page.sign_in("Ola Nordmann")
        ola.open_nav_if_collapsed()
        ola.wait(
            lambda: ola.d.find_elements(By.CSS_SELECTOR, '#channel-list [data-channel="general"]'),
            "general is not in the sidebar at the first sign-in",
        )
        ola.screenshot("default-channels-first-visit")
        ola.open_channel("general")
        ola.send(f"Hei alle ({default_hub.run_id})")
        ola.wait_for_body(f"Hei alle ({default_hub.run_id})")
        assert ola.js_errors() == []
    finally:
        page.d.quit()
