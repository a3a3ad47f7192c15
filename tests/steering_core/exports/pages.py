"""A browser page that records what an offline report must not do: console errors and
requests (the tests check every request stays in the report's folder)."""

from __future__ import annotations

from typing import Any


def watched_page(context: Any) -> tuple[Any, list[str], list[str]]:
    """A new page of `context`, with the lists its console errors and requested URLs go to."""
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    return page, errors, requests
