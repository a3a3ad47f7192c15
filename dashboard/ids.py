"""Every component id of the dashboard, in one place (layout, callbacks, tests and, through
the page, assets/*.js use them)."""

from __future__ import annotations

import json
from typing import Any

# --- the shell: navigation, URL, stores shared by every page ---------------------------
URL = "url"
PAGE = "page"
NAV = "nav"
ERROR_TOAST = "error-toast"

# --- the steering page: setup ------------------------------------------------------------
PROMPT = "setup-prompt"
NEGATIVE_PROMPT = "setup-negative-prompt"
PRESET = "setup-preset"
GENERATOR = "setup-generator"
MODEL_PATH = "setup-model-path"
SAMPLER = "setup-sampler"
PREFERENCE_MODEL = "setup-preference-model"
FEEDBACK_MODE = "setup-feedback-mode"
K = "setup-k"
D = "setup-d"
STEPS = "setup-steps"
GUIDANCE = "setup-guidance"
START = "setup-start"
SETUP_MESSAGE = "setup-message"
SESSION_PICKER = "setup-session-picker"
RESUME = "setup-resume"

# --- the steering page: the open session's name, state at a glance, forking ------------
SESSION_NAME = "setup-session-name"  # the new session's name
RENAME_NAME = "setup-rename-name"  # the open session's name, to change
RENAME = "setup-rename"
RENAME_MESSAGE = "setup-rename-message"
SESSION_STATUS = "session-status"  # the compact state line under the title
FORK_DIALOG = "fork-dialog"
FORK_DIALOG_TITLE = "fork-dialog-title"
FORK_PROMPT = "fork-prompt"
FORK_NAME = "fork-name"
FORK_CONFIRM = "fork-confirm"
FORK_CANCEL = "fork-cancel"
FORK_MESSAGE = "fork-message"
FORK_CANDIDATE = "fork-candidate-store"  # {"candidate_id": ...} the dialog forks from

# --- the steering page: settings between rounds ----------------------------------------
TRUST_RADIUS = "settings-trust-radius"
SAMPLER_PARAMS = "settings-sampler-params"
MODEL_PARAMS = "settings-model-params"
APPLY_SETTINGS = "settings-apply"
SETTINGS_MESSAGE = "settings-message"

# --- the steering page: the round and judging it ---------------------------------------
SESSION = "session-store"  # {"session_id": ...}: the session the page shows
VIEW = "view-store"  # {"session_id", "round_index", "latest"}: the round the grid shows
VERSION = "version-store"  # changes whenever the session's stored data changes
SESSION_TITLE = "session-title"
MODE_BANNER = "mode-banner"
MODE_SWITCH = "mode-switch"
GRID = "grid"
ROUND_PREV = "round-prev"
ROUND_NEXT = "round-next"
ROUND_LABEL = "round-label"
NEXT_ROUND = "next-round"
FUNNEL_START = "funnel-start"
FUNNEL_NEXT = "funnel-next"
ROUND_MESSAGE = "round-message"
AUTO_ADVANCE = "auto-advance"
CONFIDENCE = "judge-confidence"
CRITIQUE_TAGS = "judge-critique-tags"
CRITIQUE_TEXT = "judge-critique-text"
REJECT_REASON = "judge-reject-reason"
DRAFT = "draft-store"  # mirrors the in-progress judgment that judging.js keeps
OUTBOX = "outbox-store"  # mirrors judging.js's queue of judgments not yet acknowledged
DRAFT_SUMMARY = "draft-summary"
OUTBOX_STATUS = "outbox-status"
OUTBOX_RETRY = "outbox-retry"  # the Retry button judging.js draws after a failed send
OFFLINE_BANNER = "offline-banner"  # judging.js's "Server unreachable" banner (not Dash's)
SHORTCUTS = "shortcuts"  # the shortcut list; its data-shortcuts is judging.js's key table
KEYS_PAUSED = "keys-paused"  # judging.js's "shortcuts paused while typing" note (not Dash's)
MODE_CONTROLS = "mode-controls"  # the whole-round buttons of the mode in use (pairwise's)
FUNNEL_REQUEST = "funnel-request-store"  # set by judging.js once the draft is stored
FUNNEL_BEFORE = "funnel-before-store"  # {"session_id", "mode", "advance"} before the funnel
MORE_LIKE_REQUEST = "more-like-request-store"  # {"candidate_id"}: the key for "more like this"
UNDO_JUDGMENT = "undo-judgment"  # says which stored judgment of which round it withdraws

# --- the steering page: the worker's progress ------------------------------------------
POLL = "poll"
PROGRESS = "progress"
PROGRESS_BAR = "progress-bar"
PROGRESS_TEXT = "progress-text"
CANCEL = "cancel-job"
JOB = "job-store"  # {"job_id", "status"} of the session's running job

# --- the steering page: steering space, inspector, curves -------------------------------
SPACE = "space-graph"
SPACE_COLOUR = "space-colour"
SPACE_SCOPE = "space-scope"
SPACE_REFIT = "space-refit"  # "Refit map": fit the projection anew
SPACE_MORE_LIKE_THESE = "space-more-like-these"  # a round around the lasso's candidates
SPACE_MESSAGE = "space-message"
SPACE_ZOOM = "space-zoom"  # the researcher's zoom on the map, kept across rounds
SPACE_HOVER = "space-hover"  # the thumbnail inspector.js shows beside a hovered point
INSPECTOR = "inspector"
INSPECTOR_BODY = "inspector-body"
INSPECTOR_IMAGE = "inspector-image"
INSPECTED = "inspected-store"  # {"candidate_id": ...}
INSPECTOR_DETAILS = "inspector-details-store"  # INSPECTED, once the panel is drawn
MARK_BEST = "inspector-mark-best"
FORK = "inspector-fork"
MORE_LIKE_THIS = "inspector-more-like-this"
TAG = "inspector-tag"
INSPECTOR_TAGS = "inspector-tags"
INSPECTOR_MESSAGE = "inspector-message"
CURVES = "curves"
CURVES_CSV = "curves-csv"  # the button: every curve's values as CSV files in a zip
CURVES_DOWNLOAD = "curves-download"
LABEL_STATS = "label-stats"

# --- the steering page: its arrangement on one screen ----------------------------------
STEER_LAYOUT = "steer-layout"
SETUP_TOGGLE = "setup-toggle"
PLOTS = "plots-column"
EXPAND_PLOTS = "expand-plots"
KEY_CURVES = "key-curves"

# --- other pages --------------------------------------------------------------------------
REPLAY = "replay"
EXPERIMENTS = "experiments"
DIAGNOSTICS = "diagnostics"
WARM_UP = "diagnostics-warm-up"
REPLAY_INDEX = "replay-index"
REPLAY_FINAL = "replay-final"
EXPERIMENT_TABLE = "experiment-table"
EXPERIMENTS_POLL = "experiments-poll"
EXPERIMENTS_SEEN = "experiments-seen"  # [[run, results.csv mtime_ns], ...] on screen
WARM_UP_JOB = "diagnostics-warm-up-job"  # {"job_id": ...} of the warm-up this page started
WARM_UP_POLL = "diagnostics-warm-up-poll"
WARM_UP_STATUS = "diagnostics-warm-up-status"
DIAGNOSTICS_GENERATORS = "diagnostics-generators"
DIAGNOSTICS_JOBS = "diagnostics-jobs"


# --- pattern ids: one component per candidate of the round (a slot, or dash.ALL) ----------
CARD = "card"
CARD_MARK = "card-mark"


def replay_round(round_index: int) -> str:
    """The replay page's section of a round; `#round-3` in a URL scrolls to it."""
    return f"round-{round_index}"


def replay_candidate(candidate_id: int) -> str:
    """The replay page's entry of a candidate (a link target from its lineage)."""
    return f"candidate-{candidate_id}"


def card(slot: Any) -> dict[str, Any]:
    """The card of the candidate in `slot` of the grid (`dash.ALL`: every card)."""
    return {"type": CARD, "slot": slot}


def card_mark(slot: Any) -> dict[str, Any]:
    """The mark on a card that shows the judgment in progress (winner, stars, rank...)."""
    return {"type": CARD_MARK, "slot": slot}


def for_javascript() -> dict[str, str]:
    """Every plain id by its name here, as the page hands them to assets/*.js in
    `window.STEER_IDS` (so that the scripts spell no id of their own)."""
    return {
        name: value
        for name, value in globals().items()
        if name.isupper() and isinstance(value, str)
    }


def javascript() -> str:
    """The script that hands the ids to assets/*.js; the page runs it before them."""
    # "</" cannot end the inline <script> early, whatever an id holds.
    return "window.STEER_IDS = " + json.dumps(for_javascript()).replace("</", "<\\/") + ";"
