"""Keep model libraries quiet: no loading progress bars or import chatter in our output."""

from __future__ import annotations

import os


def quiet_environment() -> None:
    """What the model libraries read when they are imported: errors only, no progress bars.
    Imports nothing, so a command that never loads a model stays light."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def quiet_model_libraries() -> None:
    """Silence transformers/diffusers warnings and progress bars (our own progress is shown);
    called when a generator loads, since it imports both libraries."""
    quiet_environment()
    import diffusers.utils.logging as diffusers_logging
    import transformers.utils.logging as transformers_logging

    for module in (diffusers_logging, transformers_logging):
        module.set_verbosity_error()
        module.disable_progress_bar()
