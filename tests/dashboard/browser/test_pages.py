"""Every page opens in the browser without a console error (a screenshot of each is saved),
and a CLI process judging the same session shows up in the open page."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from dashboard import ids
from steering_core.bench.location import experiments_dir
from tests.dashboard.browser.conftest import ROOT, SCREENSHOTS, DashboardServer
from tests.dashboard.browser.helpers import start_session, stored_judgments
from tests.dashboard.pages.test_experiments import write_experiment


def test_a_judgment_from_the_cli_shows_up_in_the_open_page(
    page: Any, server: DashboardServer
) -> None:
    session_id = start_session(page, server, mode="winner")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "steering_core",
            "--data-root",
            str(server.data_root),
            "feedback",
            session_id,
            "--winner",
            "3",
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    # Candidate 3 is card 3 (slot 2); it shows the judgment within one idle poll.
    page.wait_for_selector(".candidate-card[data-slot='2'] .badges :text('winner')", timeout=10_000)
    assert [e.source for e in stored_judgments(server, session_id)] == ["cli"]


@pytest.mark.parametrize("path", ["/replay", "/experiments", "/diagnostics"])
def test_every_page_opens_without_errors(page: Any, server: DashboardServer, path: str) -> None:
    session_id = start_session(page, server, mode="winner")
    query = f"?session={session_id}" if path == "/replay" else ""
    page.goto(server.url + path + query)
    page.wait_for_load_state("networkidle")
    assert "No such page" not in page.inner_text("body")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"page{path.replace('/', '-')}.png", full_page=True)


def test_a_fresh_steering_page_lists_every_generator_and_shows_no_error(
    page: Any, server: DashboardServer
) -> None:
    page.goto(server.url + "/")
    page.wait_for_load_state("networkidle")
    page.get_by_text("New session").first.click()
    page.wait_for_timeout(500)
    generators = page.locator(f"#{ids.GENERATOR} option").all_inner_texts()
    assert {"builtin", "diffusers"} <= set(generators)  # the registry, never imported yet
    # Nothing was submitted: the start button's callback must not run when the page builds.
    assert page.locator(f"#{ids.SETUP_MESSAGE}").inner_text().strip() == ""


def test_an_out_of_range_k_is_named_at_its_field_and_starts_nothing(
    page: Any, server: DashboardServer
) -> None:
    # A browser sent an empty value for a number outside the input's max: k = 50 became a
    # k = 8 session without a word.
    page.goto(server.url + "/")
    page.wait_for_load_state("networkidle")
    page.get_by_text("New session").first.click()
    page.fill(f"#{ids.PROMPT}", "a red circle")
    page.fill(f"#{ids.K}", "50")
    page.click(f"#{ids.START}")
    page.wait_for_selector(f"#{ids.SETUP_MESSAGE} :text('k: 2-32 (got 50)')", timeout=10_000)
    assert "is-invalid" in (page.get_attribute(f"#{ids.K}", "class") or "")
    assert "session=" not in page.url


def test_a_run_finished_while_the_experiments_page_is_open_appears(
    page: Any, server: DashboardServer
) -> None:
    # The page looked in ./experiments of the folder the dashboard started in, and only
    # when it was loaded: a `steer bench` run under the data root never appeared.
    page.goto(server.url + "/experiments")
    page.wait_for_load_state("networkidle")
    assert "fresh_run" not in page.inner_text("body")
    write_experiment(experiments_dir(server.data_root), "fresh_run")
    page.wait_for_selector(f"#{ids.EXPERIMENT_TABLE}", timeout=15_000)
    assert "fresh_run" in page.inner_text("body")
