"""Retake the README's screenshot (docs/dashboard.png): the steering page at 1440x900, mid-session.

Starts `steer dashboard` on a scratch data root with the built-in model, starts a session
from the setup panel, judges a few rounds by keyboard (winner mode, k = 8) so the curves
and the steering space have something to show, and saves the window as it is then.

Usage: python scripts/readme_screenshot.py [--rounds 5] [--out docs/dashboard.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboard.browser.conftest import DashboardServer, chromium_path  # noqa: E402
from tests.dashboard.browser.helpers import GRID_LOADED  # noqa: E402

# The picks of each round (card numbers): a researcher who keeps to one direction.
PICKS = ["3", "2", "5", "2", "4", "3", "2", "6"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        server = DashboardServer(Path(scratch) / "data").start()
        browser = playwright.chromium.launch(executable_path=chromium_path())
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(server.url + "/")
            page.fill("#setup-prompt", "a red circle on a blue background")
            page.select_option("#setup-feedback-mode", "winner")
            page.fill("#setup-k", "8")
            page.click("#setup-start")
            for round_index in range(args.rounds):
                page.wait_for_function(GRID_LOADED, arg=round_index, timeout=180_000)
                if round_index + 1 == args.rounds:
                    break
                page.locator("body").focus()
                page.keyboard.press(PICKS[round_index % len(PICKS)])
                page.keyboard.press("Enter")
            # The last round half-judged, as a researcher sees it while deciding.
            page.keyboard.press(PICKS[args.rounds % len(PICKS)])
            page.wait_for_timeout(1500)  # the plots' last redraw
            page.screenshot(path=str(args.out))
            print(f"wrote {args.out}")
        finally:
            browser.close()
            server.stop()


if __name__ == "__main__":
    main()
