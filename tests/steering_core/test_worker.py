"""The worker thread: phases with timestamps, cancellation, failures that leave it running,
and jobs visible to another process through the database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from steering_core.config import GeneratorConfig, SessionConfig
from steering_core.errors import InvalidInput
from steering_core.generators.base import make_generator
from steering_core.sessions import create_session, get_round, submit_feedback
from steering_core.storage.workspace import Workspace
from steering_core.views.progress_words import batch_words, fraction_done
from steering_core.worker import Worker, list_jobs
from tests.conftest import tiny_session_config
from tests.steering_core.helpers import stored_state


@pytest.fixture
def worker(workspace: Workspace) -> Iterator[Worker]:
    """A started worker on the test's workspace, stopped afterwards."""
    running = Worker(workspace).start()
    yield running
    running.stop()


def test_round_job_reports_phases_in_order(
    workspace: Workspace, tiny_config: SessionConfig, worker: Worker
) -> None:
    session = create_session(workspace, tiny_config)
    snapshot = worker.wait(worker.submit_round(session.id), timeout=120)
    assert snapshot.status == "done", snapshot.error
    phases = [event.phase for event in snapshot.events]
    assert phases == [
        "queued",
        "started",
        "loading model",
        "fitting",
        "encoding prompt",
        "generating",
        "saving artifacts",
        "done",
    ]
    stamps = [event.at for event in snapshot.events]
    assert stamps == sorted(stamps)
    progress = snapshot.progress
    assert (progress["images_done"], progress["images_total"]) == (4, 4)
    assert batch_words(progress) == "step 2/2 · 4 images in one batch"
    _, candidates = get_round(workspace, session.id)
    assert snapshot.result["candidate_ids"] == [c.id for c in candidates]
    for candidate in candidates:
        assert workspace.images.load(candidate.image_path).size == (32, 32)


def test_a_round_job_reports_each_batch_and_step_with_the_time_left(
    workspace: Workspace, tiny_sd_path: Path
) -> None:
    generator = {"backend": "diffusers", "model": str(tiny_sd_path), "device": "cpu"}
    config = tiny_session_config(tiny_sd_path, generator={**generator, "batch_size": 2})
    session = create_session(workspace, config)
    seen: list[dict] = []
    holder: dict[str, str] = {}

    def watching_factory(config: GeneratorConfig):  # noqa: ANN202
        generator = make_generator(config)
        original = generator.generate

        def generate(*args: object, on_progress: Any = None, **kwargs: object) -> object:
            def progress(step: object) -> None:
                on_progress(step)
                seen.append(worker.snapshot(holder["job"]).progress)  # what a poller reads

            return original(*args, on_progress=progress, **kwargs)

        generator.generate = generate
        return generator

    worker = Worker(workspace, generator_factory=watching_factory).start()
    try:
        holder["job"] = worker.submit_round(session.id)
        first = worker.wait(holder["job"], timeout=120)
        first_steps, seen[:] = list(seen), []
        holder["job"] = worker.submit_round(session.id)
        second = worker.wait(holder["job"], timeout=120)
    finally:
        worker.stop()
    assert first.status == "done" and second.status == "done", (first.error, second.error)
    # Four candidates in batches of two: each batch's steps, then its decoded images.
    assert [batch_words(p) for p in first_steps] == [
        "batch 1/2 · step 1/2 · 2 images each",
        "batch 1/2 · step 2/2 · 2 images each",
        "batch 1/2 · step 2/2 · 2 images each",
        "batch 2/2 · step 1/2 · 2 images each",
        "batch 2/2 · step 2/2 · 2 images each",
        "batch 2/2 · step 2/2 · 2 images each",
    ]
    assert [fraction_done(p) for p in first_steps] == [0.25, 0.5, 0.5, 0.75, 1.0, 1.0]
    assert batch_words(first.progress) == "batch 2/2 · step 2/2 · 2 images each"
    # Nothing measured before this job's first step: "estimating…"; then numbers.
    assert first_steps[0]["seconds_left"] is None
    assert all(p["seconds_left"] is not None for p in first_steps[1:])
    assert [b["images"] for b in first.result["render"]["batches"]] == [2, 2]
    # The second round re-shows its incumbent and renders 3: batches of 2 and 1, timed
    # from the first round's batches from its first step on.
    assert batch_words(seen[0]) == "batch 1/2 · step 1/2 · 2 images in this batch, 3 in all"
    assert seen[0]["seconds_left"] is not None
    assert [b["images"] for b in second.result["render"]["batches"]] == [2, 1]


def test_second_round_is_warm_and_reuses_the_incumbent_image(
    workspace: Workspace, tiny_config: SessionConfig, worker: Worker
) -> None:
    session = create_session(workspace, tiny_config)
    worker.wait(worker.submit_round(session.id), timeout=120)
    second = worker.wait(worker.submit_round(session.id), timeout=120)
    assert "loading model" not in [e.phase for e in second.events]
    assert "checking" in [e.phase for e in second.events]
    assert second.progress["images_total"] == 3  # the incumbent is not re-rendered


def test_a_removed_re_shown_image_is_rendered_again_the_same(
    workspace: Workspace, tiny_config: SessionConfig, worker: Worker
) -> None:
    # `steer gc --images` removes images that seed and vector can make again.
    session = create_session(workspace, tiny_config)
    worker.wait(worker.submit_round(session.id), timeout=120)
    _, first = get_round(workspace, session.id, 0)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[2].id})
    original = np.asarray(workspace.images.load(first[2].image_path))
    (workspace.data_root / first[2].image_path).unlink()
    second = worker.wait(worker.submit_round(session.id), timeout=120)
    assert second.status == "done", second.error
    assert second.progress["images_total"] == 4  # the incumbent is rendered again
    _, shown = get_round(workspace, session.id, 1)
    assert shown[0].image_path != first[2].image_path
    np.testing.assert_array_equal(np.asarray(workspace.images.load(shown[0].image_path)), original)


def test_a_round_around_kept_candidates_renders_only_the_variations(
    workspace: Workspace, tiny_config: SessionConfig, worker: Worker
) -> None:
    session = create_session(workspace, tiny_config)
    worker.wait(worker.submit_round(session.id), timeout=120)
    _, first = get_round(workspace, session.id)
    submit_feedback(workspace, session.id, {"mode": "winner", "winner": first[2].id})
    kept = [first[1].id, first[3].id]
    stored_before = stored_state(workspace)
    with pytest.raises(InvalidInput, match="around: there is no candidate #999999"):
        worker.submit_round(session.id, around=[999999], k=5)
    assert stored_state(workspace) == stored_before
    # Fits the round size but not beside the incumbent: refused when the job plans it.
    too_many = [first[1].id, first[3].id, first[0].id]
    failed = worker.wait(worker.submit_round(session.id, around=too_many, k=3), timeout=120)
    assert failed.status == "failed" and failed.error_kind == "invalid input"
    assert "do not fit in a round of k=3" in failed.error
    assert stored_state(workspace) == stored_before
    snapshot = worker.wait(worker.submit_round(session.id, around=kept, k=5), timeout=120)
    assert snapshot.status == "done", snapshot.error
    record, candidates = get_round(workspace, session.id)
    assert snapshot.result["candidate_ids"] == [c.id for c in candidates]
    assert [c.role for c in candidates] == ["incumbent", "kept", "kept", "variation", "variation"]
    assert [c.parent_candidate_id for c in candidates] == [first[2].id, *kept, *kept]
    assert [c.image_path for c in candidates[:3]] == [
        first[2].image_path,
        first[1].image_path,
        first[3].image_path,
    ]
    assert snapshot.progress["images_total"] == 2  # only the two variations are rendered
    for candidate in candidates[3:]:
        assert workspace.images.load(candidate.image_path).size == (32, 32)
    assert record.model_state["around"] == kept and record.model_state["k"] == 5


def test_a_failing_job_is_recorded_and_the_worker_goes_on(
    workspace: Workspace, tiny_config: SessionConfig, worker: Worker
) -> None:
    session = create_session(workspace, tiny_config)

    def out_of_memory(context: object) -> dict:
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    failed = worker.wait(worker.submit("round", out_of_memory, session.id), timeout=30)
    done = worker.wait(worker.submit_round(session.id), timeout=120)
    assert failed.status == "failed" and failed.error_kind == "out of memory"
    assert "out of memory" in failed.error
    assert done.status == "done"


def test_cancel_a_queued_job_and_a_running_generation(
    workspace: Workspace, tiny_config: SessionConfig
) -> None:
    session = create_session(workspace, tiny_config)
    release = threading.Event()
    holder: dict[str, str] = {}

    def cancelling_factory(config: GeneratorConfig):  # noqa: ANN202
        generator = make_generator(config)
        original = generator.generate

        def generate(*args: object, on_progress: object = None, **kwargs: object) -> object:
            def progress(step: object) -> None:
                worker.cancel(holder["job"])  # the researcher presses cancel mid-generation
                if on_progress:
                    on_progress(step)

            return original(*args, on_progress=progress, **kwargs)

        generator.generate = generate
        return generator

    worker = Worker(workspace, generator_factory=cancelling_factory).start()
    try:
        blocker = worker.submit("wait", lambda context: (release.wait(30), {})[1])
        queued = worker.submit_round(session.id)
        assert worker.cancel(queued)
        release.set()
        assert worker.wait(blocker, timeout=30).status == "done"
        assert worker.wait(queued, timeout=30).status == "cancelled"
        holder["job"] = worker.submit_round(session.id)
        running = worker.wait(holder["job"], timeout=120)
    finally:
        worker.stop()
    assert running.status == "cancelled"
    assert "generating" in [e.phase for e in running.events]
    assert workspace.db.query_one("SELECT COUNT(*) FROM rounds")[0] == 0


def test_jobs_are_visible_to_another_process(
    workspace: Workspace, tiny_config: SessionConfig, worker: Worker
) -> None:
    session = create_session(workspace, tiny_config)
    job_id = worker.submit_round(session.id)
    worker.wait(job_id, timeout=120)
    # A second Workspace object reads the same files, as another process would.
    other = Workspace.open(workspace.data_root, workspace.labels_dir)
    jobs = list_jobs(other, session.id)
    assert [j["id"] for j in jobs] == [job_id]
    assert jobs[0]["status"] == "done" and jobs[0]["progress"]["step"] == 2
    phases = [
        r["phase"]
        for r in other.db.query("SELECT phase FROM job_events WHERE job_id = ?", (job_id,))
    ]
    assert phases[0] == "queued" and phases[-1] == "done" and "generating" in phases


def test_jobs_of_a_dead_process_are_marked_abandoned_when_a_worker_starts(
    workspace: Workspace,
) -> None:
    with workspace.db.transaction() as connection:
        connection.execute(
            "INSERT INTO jobs (id, kind, status, phase, created_at, pid, host) "
            "VALUES ('ghost', 'round', 'running', 'generating', 't', 999999999, ?)",
            (__import__("socket").gethostname(),),
        )
    Worker(workspace).start().stop()
    job = workspace.db.query_one("SELECT status, error FROM jobs WHERE id = 'ghost'")
    assert job["status"] == "abandoned" and "process running this job ended" in job["error"]
