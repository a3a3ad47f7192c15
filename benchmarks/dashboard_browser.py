"""Drive the dashboard in headless Chromium and time what a researcher waits for.

Measures, on a real `steer dashboard` process with the built-in model:
- feedback to next grid visible (k = 8, 20 steps): Enter pressed -> every new image loaded;
- judgment acknowledged: Enter pressed -> the browser's outbox is empty again;
- scatter point clicked -> inspector image shown;
- first render of a 60,000-point steering space ("all sessions") and a colour-mode change;
- bytes sent per poll while idle;
- the first load at 1440x900 and 1280x720 (benchmarks/first_load.py): bytes on the wire and
  decoded, time to interactive (navigation start -> grid and action bar shown and a key press
  handled), the same on reload, and whether grid, action bar, steering space and curves fit
  in the window without scrolling (pass/fail each; screenshots under --shots).

Usage: python benchmarks/dashboard_browser.py [--rounds 12] [--acks 60] [--clicks 30]
       [--points 60000] [--first-load-only] [--shots DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.first_load import first_loads
from dashboard import ids
from steering_core.config import make_config
from steering_core.rounds import RoundPlan, store_round
from steering_core.samplers.base import Proposal
from steering_core.sessions import create_session, get_session
from steering_core.storage import Workspace
from tests.dashboard.browser.conftest import DashboardServer, chromium_path
from tests.dashboard.browser.helpers import GRID_LOADED, OUTBOX_EMPTY


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, seconds: list[float]) -> str:
    ms = [1000 * s for s in seconds]
    return (
        f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {percentile(ms, 0.95):.0f} |"
        f" {max(ms):.0f} |"
    )


def fill_steering_space(data_root: Path, like_session: str, points: int) -> None:
    """Synthetic sessions with the same d as `like_session`, `points` candidates in all,
    stored through the core's `store_round` (no images): data for the plot to draw."""
    workspace = Workspace.open(data_root)
    config = make_config(get_session(workspace, like_session).config)
    config = config.model_copy(update={"k": 32})
    rng = np.random.default_rng(0)
    rounds_per_session = 25
    made = 0
    while made < points:
        session = create_session(workspace, config, source="synthetic")
        for round_index in range(rounds_per_session):
            if made >= points:
                break
            k = 32
            vectors = rng.normal(scale=0.3, size=(k, config.d))
            plan = RoundPlan(
                session_id=session.id,
                round_index=round_index,
                config=config,
                proposal=Proposal(vectors, ["explore"] * k, [{}] * k),
                seeds=list(range(k)),
                parents=[None] * k,
                reused_images={},
                model_state={},
                timings={},
            )
            store_round(workspace, plan, {})
            made += k


def time_point_clicks(page: Any, clicks: int) -> tuple[list[float], list[float]]:
    """Click candidates' points one after another, each time until the open inspector
    shows the image: seconds from Python and, in the page, from the press to that frame."""
    page.wait_for_function(
        "() => { const gd = document.querySelector('#space-graph .js-plotly-plot');"
        " return gd && gd._fullData && gd._fullData.some(t => t.customdata); }"
    )
    page.locator("#space-graph").scroll_into_view_if_needed()
    # In the page: from the mouse press to the frame that shows the image, without
    # Playwright's own round trips to the browser.
    page.evaluate(
        "window.addEventListener('pointerdown',"
        " () => { window.pressedAt = performance.now(); }, true)"
    )
    waits: list[float] = []
    in_page: list[float] = []
    previous = {"x": -100.0, "y": -100.0}
    i = 0
    while len(waits) < clicks:
        i += 1
        # A point of the open session (the benchmark's other sessions have no images) with
        # no other session's point within 4 px, in the trace of all candidates (with "all
        # sessions", 60,000 points for the click to search).
        position = page.evaluate(
            """(i) => {
              const gd = document.querySelector('#space-graph .js-plotly-plot');
              const trace = gd._fullData.find(t => t.name === 'candidates');
              const opacity = trace.marker.opacity;
              const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
              const own = [], others = [];
              for (let j = 0; j < trace.x.length; j++)
                (!opacity.length || opacity[j] > 0.9 ? own : others).push(j);
              const apart = (j) => others.every((o) =>
                Math.abs(xa.l2p(trace.x[o]) - xa.l2p(trace.x[j])) > 4
                || Math.abs(ya.l2p(trace.y[o]) - ya.l2p(trace.y[j])) > 4);
              let j = own[(i * 7919) % own.length];
              for (let step = 0; step < own.length && !apart(j); step++)
                j = own[(i * 7919 + step) % own.length];
              const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
              return {x: box.left + xa.l2p(trace.x[j]), y: box.top + ya.l2p(trace.y[j])};
            }""",
            i,
        )
        # A point on the previous one's spot (a winner re-shown as incumbent) would open
        # the same candidate again: take points apart from the last one.
        if abs(position["x"] - previous["x"]) + abs(position["y"] - previous["y"]) < 12:
            continue
        previous = position
        shown = page.evaluate("document.getElementById('inspector-image')?.src || ''")
        page.mouse.move(position["x"] - 3, position["y"] - 3)
        started = time.perf_counter()
        page.mouse.click(position["x"], position["y"])
        # Shown: a new candidate's image (the clicked one, or one drawn on top of it)
        # loaded, in the open inspector.
        page.wait_for_function(
            "(before) => { const i = document.getElementById('inspector-image');"
            " const ready = i && i.src.includes('/api/candidates/') && i.src !== before"
            " && i.complete && i.naturalWidth > 0"
            " && i.closest('.offcanvas.show') !== null;"
            " if (ready) window.shownAt = performance.now(); return ready; }",
            arg=shown,
            polling="raf",
            timeout=10_000,
        )
        waits.append(time.perf_counter() - started)
        in_page.append(page.evaluate("(window.shownAt - window.pressedAt) / 1000"))
        page.keyboard.press("Escape")
        page.wait_for_selector("#inspector", state="hidden")
    return waits, in_page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--acks", type=int, default=60)
    parser.add_argument("--clicks", type=int, default=30)
    parser.add_argument("--points", type=int, default=60_000)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument(
        "--first-load-only", action="store_true", help="measure only the first load"
    )
    parser.add_argument("--shots", default="", help="folder for the first-load screenshots")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    server = DashboardServer(folder / "data").start()
    rows: list[str] = []
    shots = Path(args.shots or folder / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    idle = ""
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(server.url + "/")
            page.fill("#setup-prompt", "a red circle on a blue background")
            page.click("#setup-start")
            # The first round loads the model: minutes on a busy machine.
            page.wait_for_function(GRID_LOADED, arg=0, timeout=900_000)
            session_id = page.evaluate("document.querySelector('.candidate-grid').dataset.session")
            loads = first_loads(
                browser,
                f"{server.url}/?session={session_id}",
                [(1440, 900), (1280, 720)],
                str(shots),
            )
            if args.first_load_only:
                browser.close()
                return report(rows, idle, loads)

            # Feedback -> next grid visible (k = 8, 20 steps, built-in model, warm).
            waits = []
            for round_index in range(1, args.rounds + 1):
                page.locator("body").click(position={"x": 5, "y": 300})
                page.keyboard.press(str(1 + round_index % 7 + 1))
                started = time.perf_counter()
                page.keyboard.press("Enter")
                page.wait_for_function(GRID_LOADED, arg=round_index, timeout=60_000, polling="raf")
                waits.append(time.perf_counter() - started)
            rows.append(summary("feedback to next grid visible (k = 8)", waits[1:]))

            # Judgment acknowledged (durable in SQLite and the label CSV), no round after it.
            page.uncheck("#auto-advance")
            page.locator("body").click(position={"x": 5, "y": 300})
            acks = []
            for i in range(args.acks):
                page.keyboard.press(str(1 + i % 8))
                started = time.perf_counter()
                page.keyboard.press("Enter")
                page.wait_for_function(OUTBOX_EMPTY, polling="raf")
                acks.append(time.perf_counter() - started)
            rows.append(summary("judgment acknowledged", acks))

            # Scatter point -> inspector image shown.
            clicks, in_page = time_point_clicks(page, args.clicks)
            rows.append(summary("scatter point to inspector image shown", clicks))
            rows.append(summary("  the same, timed in the page (press to frame)", in_page))

            # Bytes per idle poll (no job running, nothing changing).
            polls: list[int] = []

            def count(response: object) -> None:
                if "_dash-update-component" in response.url:
                    body = response.body() if response.status != 204 else b""
                    polls.append(len(body))

            page.wait_for_timeout(3000)
            page.on("response", count)
            page.wait_for_timeout(1000 * args.idle_seconds)
            page.remove_listener("response", count)
            idle = (
                f"idle polls in {args.idle_seconds:.0f} s: {len(polls)}, response bodies "
                f"{sum(polls)} bytes in all (max {max(polls, default=0)} per poll)"
            )

            # 60,000 points: first render and a colour-mode change.
            fill_steering_space(server.data_root, session_id, args.points)
            page.reload()
            page.wait_for_function(GRID_LOADED, arg=args.rounds, timeout=60_000)
            page.wait_for_timeout(1500)
            # A researcher looks through 60,000 points in the expanded map (key p): in the
            # compact side column they lie too close for a click to pick one of the open
            # session's own.
            page.click(f"#{ids.EXPAND_PLOTS}")
            page.wait_for_selector(f"#{ids.PLOTS}.expanded")
            page.wait_for_timeout(1000)  # the graph takes its new size
            draws = (
                "(n) => { const gd = document.querySelector('#space-graph .js-plotly-plot');"
                " return gd && gd._fullData && gd._fullData.some(t => t.x && t.x.length >= n); }"
            )
            started = time.perf_counter()
            page.click("#space-scope input[value='all']")
            page.wait_for_function(draws, arg=args.points, polling="raf", timeout=60_000)
            first = time.perf_counter() - started
            page.evaluate(
                "() => { const gd = document.querySelector('#space-graph .js-plotly-plot');"
                " window.plotted = 0; gd.on('plotly_afterplot', () => window.plotted++); }"
            )
            started = time.perf_counter()
            page.select_option("#space-colour", "label")
            page.wait_for_function("window.plotted > 0", polling="raf", timeout=60_000)
            recolour = time.perf_counter() - started
            rows.append(summary(f"first render of {args.points} points (all sessions)", [first]))
            rows.append(summary(f"colour-mode change, {args.points} points", [recolour]))
            clicks, _ = time_point_clicks(page, max(args.clicks // 3, 1))
            rows.append(summary(f"scatter point to inspector image, {args.points} points", clicks))
            browser.close()
    finally:
        server.stop()
    report(rows, idle, loads)


def report(rows: list[str], idle: str, loads: list[str]) -> None:
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, Chromium via Playwright (headless)"
    )
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    if rows:
        print("| what | n | median ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|---:|")
        for row in rows:
            print(row)
        print(idle)
        print()
    print("\n".join(loads))


if __name__ == "__main__":
    main()
