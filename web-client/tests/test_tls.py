"""The web client on a hub that serves TLS itself: a page loaded over https:// connects
with wss:// and works (a hub started with --tls-cert speaks nothing else)."""
from __future__ import annotations

import subprocess

import pytest
from conftest import HubStartError, Page, hub_binary, new_driver, start_hub, stop_hub


@pytest.fixture(scope="module")
def tls_hub(tmp_path_factory, output_dir):
    folder = tmp_path_factory.mktemp("tls")
    certificate, key = folder / "hub.crt", folder / "hub.key"
    # The README's command for a self-signed pair, valid for two days.
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    try:
        the_hub = start_hub(hub_binary(), folder / "data", output_dir / "hub-tls.log", tls=(certificate, key))
    except HubStartError as err:
        pytest.fail(str(err))
    yield the_hub
    stop_hub(the_hub)


def test_over_https_the_web_client_connects_with_wss_and_chats(tls_hub, output_dir):
    pages = [Page(new_driver(accept_any_certificate=True), tls_hub, output_dir, label) for label in ("tls-ola", "tls-kari")]
    try:
        ola = pages[0].sign_in("Ola Nordmann")
        kari = pages[1].sign_in("Kari Hansen")
        assert ola.d.current_url.startswith("https://")
        url = ola.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "import('/js/connection.js').then((m) => done(m.hubURL()), (e) => done(String(e)));"
        )
        assert url == f"wss://127.0.0.1:{tls_hub.port}/ws"

        ola.join("general")
        kari.join("general")
        ola.send(f"Over TLS ({tls_hub.run_id})")
        kari.wait_for_body(f"Over TLS ({tls_hub.run_id})")
        # Kari can have it before Ola's page has read its acknowledgement: wait for that, not
        # assume it (a race seen once under load), and the message must still leave "pending".
        ola.wait(lambda: ola.pending_bodies() == [], "tls-ola: the message stayed pending")
        assert ola.js_errors() == [] and kari.js_errors() == []
    finally:
        for page in pages:
            page.d.quit()
