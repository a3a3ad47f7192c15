"""The report in a real browser (the run's one headless system Chromium, `browser`):
written, moved to another folder, opened from `file://`, it shows every image and every
curve, logs no console error and asks for nothing outside its folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from steering_core.exports.report import write_report
from steering_core.storage.workspace import Workspace
from tests.dashboard.browser.conftest import SCREENSHOTS
from tests.steering_core.exports.pages import watched_page
from tests.steering_core.exports.report_sessions import judged_session


def test_the_report_opens_offline_from_another_folder(
    browser: Any, workspace: Workspace, tmp_path: Path
) -> None:
    session_id = judged_session(workspace)
    written = write_report(workspace, session_id, tmp_path / "written").parent
    # Elsewhere, with a space in the name, and the original gone: nothing may point back.
    folder = tmp_path / "moved elsewhere" / "report"
    shutil.copytree(written, folder)
    shutil.rmtree(written)

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page, errors, requests = watched_page(context)
    try:
        page.goto((folder / "report.html").as_uri())
        figures = page.locator("script.figure-data").count()
        assert figures >= 4
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {figures}"
        )
        # Images load lazily: bring each into view, then wait for all of them.
        images = page.locator("img")
        assert images.count() > 25  # 25 candidates, the final choice and its lineage
        for image in images.all():
            image.scroll_into_view_if_needed()
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        sources = page.evaluate("Array.from(document.images).map(i => i.src)")
        broken = page.evaluate(
            "Array.from(document.images).filter(i => i.naturalWidth === 0)"
            ".map(i => i.getAttribute('src'))"
        )
        assert broken == []
        page.evaluate("window.scrollTo(0, 0)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "report.png", full_page=True)
    finally:
        context.close()

    assert errors == []
    inside = folder.as_uri() + "/"
    outside = [url for url in requests if not url.startswith(inside)]
    assert outside == []
    assert (folder / "report.html").as_uri() in requests
    assert set(sources) <= set(requests)  # the images were fetched, and seen doing so
