"""The pages' polling of GET /api/pods, as the browser sends it: the answer says no-cache
with an ETag, so the browser asks again each time with If-None-Match, and the server's
304 leaves the page with the list it had (bench/web's clients ask the same way)."""

from __future__ import annotations

import re

import pytest

from .conftest import expect

pytestmark = pytest.mark.podman


def test_the_pods_list_is_revalidated_with_its_etag(control_plane, page, shot):
    asked: list[dict] = []
    page.on("request", lambda req: asked.append(req.all_headers())
            if req.url == f"{control_plane.base}/api/pods" else None)
    page.goto(f"{control_plane.base}/")
    expect(page.get_by_test_id("pods-table")).to_be_visible()
    for _ in range(40):  # the pods page asks every 2 s, the top bar every 3 s
        if sum("if-none-match" in h for h in asked) >= 2:
            break
        page.wait_for_timeout(500)
    tags = [h["if-none-match"] for h in asked if "if-none-match" in h]
    assert len(tags) >= 2 and all(re.fullmatch(r'"[0-9a-f]{24}"', t) for t in tags), asked
    expect(page.get_by_test_id("error-banner")).to_have_count(0)
    expect(page.get_by_test_id("pods-table")).to_be_visible()
    shot(page)
