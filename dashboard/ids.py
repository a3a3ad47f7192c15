"""Every component id of the dashboard, in one place (callbacks and tests import them)."""

from __future__ import annotations

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
SHORTCUTS = "shortcuts"

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
LABEL_STATS = "label-stats"

# --- other pages --------------------------------------------------------------------------
REPLAY = "replay"
EXPERIMENTS = "experiments"
DIAGNOSTICS = "diagnostics"
WARM_UP = "diagnostics-warm-up"
REPLAY_INDEX = "replay-index"
REPLAY_FINAL = "replay-final"
EXPERIMENT_TABLE = "experiment-table"
WARM_UP_JOB = "diagnostics-warm-up-job"  # {"job_id": ...} of the warm-up this page started
WARM_UP_POLL = "diagnostics-warm-up-poll"
WARM_UP_STATUS = "diagnostics-warm-up-status"
DIAGNOSTICS_GENERATORS = "diagnostics-generators"
DIAGNOSTICS_JOBS = "diagnostics-jobs"
