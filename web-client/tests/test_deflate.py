"""permessage-deflate from a real browser: Chromium offers it on its own, the hub agrees,
and chat works both ways with messages large enough to go compressed."""
from __future__ import annotations


def test_the_web_client_negotiates_deflate_and_chats_with_compressed_messages(hub, browser):
    ola = browser("deflate-ola").sign_in("Ola Nordmann")
    kari = browser("deflate-kari").sign_in("Kari Hansen")
    for page in (ola, kari):
        assert page.js("return window.__dugnad.extensions()") == "permessage-deflate; server_no_context_takeover"

    ola.join("general")
    kari.join("general")
    # Above the hub's 256-byte threshold both ways: Chromium compresses what it sends, the
    # hub compresses the fan-out once for every deflate connection.
    long_body = f"Dugnad på lørdag ({hub.run_id}): " + ("ta med rive, kost og kaffe. " * 12).strip()
    ola.send(long_body)
    kari.wait_for_body(long_body)
    reply = (f"Jeg tar med boller ({hub.run_id}). " * 10).strip()
    kari.send(reply)
    ola.wait_for_body(reply)
    # (Waited for: the other page can show a message before its sender's page has read the
    # acknowledgement.)
    for page in (ola, kari):
        page.wait(lambda page=page: page.pending_bodies() == [], f"{page.label}: a message stayed pending")
    assert ola.js_errors() == [] and kari.js_errors() == []
