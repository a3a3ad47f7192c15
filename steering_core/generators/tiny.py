"""Tiny random-weight Stable Diffusion pipelines built from configs, for tests and benchmarks.

They follow diffusers' own test components (`block_out_channels=(4, 8)`, a 5-layer CLIP text
encoder of width 32) and need no download: the tokenizer is a byte-level CLIP vocabulary
written on the spot, so the real tokenizer, text encoder, UNet, VAE and scheduler code runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch


# CLIP's byte-to-unicode table (from OpenAI's CLIP): every byte gets a printable character.
def _bytes_to_unicode() -> dict[int, str]:
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, [chr(c) for c in codes], strict=True))


def write_byte_level_clip_tokenizer(folder: Path) -> None:
    """Write a CLIP tokenizer whose vocabulary is single bytes (no merges): offline and tiny."""
    folder.mkdir(parents=True, exist_ok=True)
    symbols = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for symbol in symbols + [s + "</w>" for s in symbols]:
        vocab[symbol] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"model_max_length": 77, "tokenizer_class": "CLIPTokenizer"}), encoding="utf-8"
    )


def _text_encoder_config(vocab_size: int, bos: int, eos: int):  # noqa: ANN202 - transformers type
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=bos,
        eos_token_id=eos,
        pad_token_id=eos,
        hidden_size=32,
        intermediate_size=37,
        layer_norm_eps=1e-05,
        num_attention_heads=4,
        num_hidden_layers=5,
        vocab_size=vocab_size,
        projection_dim=32,
        hidden_act="gelu",
    )


def _tokenizer(folder: Path):  # noqa: ANN202 - transformers type
    from transformers import CLIPTokenizer

    write_byte_level_clip_tokenizer(folder)
    return CLIPTokenizer.from_pretrained(str(folder), local_files_only=True)


def _vae(widths: tuple[int, int] = (4, 8), groups: int = 2):  # noqa: ANN202 - diffusers type
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=list(widths),
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=groups,
    )


def build_tiny_sd_pipeline(  # noqa: ANN201 - diffusers type
    folder: Path, seed: int = 0, widths: tuple[int, int] = (4, 8), layers_per_block: int = 1
):
    """Build a random-weight SD 1.x-style pipeline, save it to `folder`, and return it.

    `widths` are the UNet's and VAE's block widths: the default is diffusers' test size;
    benchmarks use wider blocks so that denoising dominates as in a real model.
    """
    from diffusers import DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    folder = Path(folder)
    tokenizer = _tokenizer(folder / "tokenizer")
    torch.manual_seed(seed)
    groups = 2 if widths[0] < 32 else 32
    unet = UNet2DConditionModel(
        block_out_channels=widths,
        layers_per_block=layers_per_block,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=groups,
    )
    torch.manual_seed(seed)
    vae = _vae(widths, groups)
    torch.manual_seed(seed)
    config = _text_encoder_config(len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id)
    text_encoder = CLIPTextModel(config)
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipeline = StableDiffusionPipeline(
        unet=unet,
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(str(folder))
    return pipeline


def build_tiny_sdxl_pipeline(folder: Path, seed: int = 0):  # noqa: ANN201 - diffusers type
    """Build a random-weight SDXL-style pipeline (two text encoders, pooled embeddings)."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    folder = Path(folder)
    tokenizer = _tokenizer(folder / "tokenizer")
    tokenizer_2 = _tokenizer(folder / "tokenizer_2")
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(2, 4),
        layers_per_block=2,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=80,  # 6 time ids x 8 + 32 pooled
        cross_attention_dim=64,
        norm_num_groups=1,
    )
    torch.manual_seed(seed)
    vae = _vae()
    config = _text_encoder_config(len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id)
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(config)
    torch.manual_seed(seed)
    text_encoder_2 = CLIPTextModelWithProjection(config)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        steps_offset=1,
        beta_schedule="scaled_linear",
        timestep_spacing="leading",
    )
    pipeline = StableDiffusionXLPipeline(
        unet=unet,
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
    )
    pipeline.save_pretrained(str(folder))
    return pipeline
