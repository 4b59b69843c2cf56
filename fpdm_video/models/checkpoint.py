"""FPDM checkpoints: ``config.yaml`` + ``model.safetensors`` in a folder. Never unpickled.

``save_model`` writes the folder atomically (a temporary folder renamed into place).
``load_config`` checks every key and value of ``config.yaml`` against the config dataclasses
(:func:`fpdm_video.config.from_dict`), ``load_model`` then what only the libraries know
(:func:`fpdm_video.models.config_check.check_buildable`), both before any part is built; either
names the file and the key. ``load_model`` builds the model from the config without fetching any
pretrained part (the weights are all in the file), then loads the tensors strictly: a missing file,
a missing or unexpected tensor, or a shape that differs from the config's is a
:class:`CheckpointError` that names the file and the expected and found shapes. A value that passes
those checks and still fails in a library's constructor (a channel count its group norm cannot
divide, say) is a :class:`CheckpointError` naming the file, too.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch

from fpdm_video.atomic import atomic_dir, default_file_mode
from fpdm_video.config import FPDMConfig, canvas_of, from_dict, read_yaml, save_yaml
from fpdm_video.errors import CheckpointError, InputError
from fpdm_video.models.checkpoint_files import (  # noqa: F401 (re-exported)
    ADAPTER_NAME,
    CONFIG_NAME,
    WEIGHTS_NAME,
    checkpoint_files,
    weights_file,
)

# tensor name prefix -> the config field that sets its shapes (for the messages of a mismatch)
CONFIG_FIELD_OF = {"denoiser.pose_embedding": "pose_embedding", "denoiser.source_projection": "source_projection",
                   "denoiser.unet": "unet.kwargs", "fusion.combiner": "combiner", "fusion.encoder": "fusion_encoder.tower",
                   "source_encoder": "source_encoder", "vae": "vae.kwargs"}  # fmt: skip


def config_field_of(key: str) -> str:
    """The config field whose values set the shape of tensor ``key``."""
    return next((field for prefix, field in CONFIG_FIELD_OF.items() if key.startswith(prefix + ".")), "the model size")


def save_model(model, directory: str | os.PathLike, *, dtype: torch.dtype | None = None) -> Path:
    """Write ``model`` (an FPDM) to ``directory``; ``dtype`` optionally casts floating tensors (e.g. fp16)."""
    state = {}
    for key, value in model.state_dict().items():
        value = value.detach().to("cpu").contiguous()
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        state[key] = value
    return _write_folder(model.config, state, directory, WEIGHTS_NAME)


def save_adapter(model, directory: str | os.PathLike) -> Path:
    """Write a LoRA student's folder: its config and only its adapter tensors (:mod:`fpdm_video.models.student_lora`)."""
    from fpdm_video.models.student_lora import adapter_state

    return _write_folder(model.config, adapter_state(model), directory, ADAPTER_NAME)


def _write_folder(config: FPDMConfig, state: dict, directory: str | os.PathLike, weights_name: str) -> Path:
    """``config.yaml`` and the tensors ``state`` as ``weights_name``, written atomically."""
    from safetensors.torch import save_file

    directory = Path(directory)
    with atomic_dir(directory) as tmp:
        save_yaml(config, tmp / CONFIG_NAME)
        save_file(state, str(tmp / weights_name), metadata={"format": "pt", "model": config.name, "resolution": canvas_label(config)})
        os.chmod(tmp / weights_name, default_file_mode())  # safetensors writes 0600
    return directory


HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # owner/name, as on the Hugging Face hub


def resolve_checkpoint(name: str | os.PathLike) -> Path:
    """A checkpoint folder: the path itself, or a Hugging Face hub model ``owner/name``, found through the hub's cache.

    A hub name downloads its config.yaml and model.safetensors when there is a network and they are not
    cached yet; offline (``HF_HUB_OFFLINE=1``, or no network) only the cache is read.
    """
    path = Path(name).expanduser()
    if path.exists() or not HUB_NAME.match(str(name)):
        return path
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(str(name), allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, "README.md"]))
    except Exception as exc:  # noqa: BLE001 - the hub client raises many kinds (offline, not found, no network)
        raise CheckpointError(f"checkpoint {name} is neither a folder nor a model found on the Hugging Face hub or in its cache "
                              f"({type(exc).__name__}); give a folder, or fetch it first: hf download {name}") from None  # fmt: skip


def load_config(directory: str | os.PathLike) -> FPDMConfig:
    """The FPDMConfig of a checkpoint folder."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"checkpoint {directory} is a file; give the checkpoint's folder ({CONFIG_NAME} + {WEIGHTS_NAME})")
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint folder {directory} does not exist")
    path = directory / CONFIG_NAME
    if path.is_dir():
        raise CheckpointError(f"checkpoint {directory} is incomplete: {CONFIG_NAME} is a folder, not a file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {directory} is incomplete: {CONFIG_NAME} is missing")
    data = read_yaml(path, "checkpoint config")
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint config {path} must hold a mapping (the model's config), got "
                              f"{'nothing' if data is None else type(data).__name__}")  # fmt: skip
    try:
        return from_dict(FPDMConfig, data)
    except InputError as exc:
        raise CheckpointError(f"checkpoint config {path} is invalid: {exc}") from None


def canvas_label(config) -> str:
    """The canvas as the weights' metadata records it: ``"256"`` for a square, ``"352x512"`` for W x H."""
    width, height = canvas_of(config)
    return str(width) if width == height and not isinstance(config.resolution, (list, tuple)) else f"{width}x{height}"


def check_resolution(model, metadata: dict[str, str], config_path: Path) -> None:
    """Raise a :class:`CheckpointError` naming the field where ``resolution`` disagrees with the weights.

    Convolutions do not fix an image size, so the weights' own size is read from what does: the
    resolution saved in the weights' metadata (checkpoints written by this project), and the UNet's
    ``sample_size`` (the latent size it was built for). That the canvas is a multiple of the VAE factor,
    the model checks as it is built; the UNet itself takes latents of any size (diffusers sizes its
    upsampling to the skip connections), as the official 352 x 512 model's 64 x 44 latents need.
    """
    resolution, factor = model.config.resolution, model.vae_factor
    label = canvas_label(model.config)
    if "resolution" in metadata and metadata["resolution"] != label:
        raise CheckpointError(f"{config_path}: resolution is {resolution} but the weights were saved at resolution "
                              f"{metadata['resolution']}; set resolution: {metadata['resolution']}")  # fmt: skip
    latent_h, latent_w = model.latent_hw
    latent = latent_w if latent_w == latent_h else (latent_h, latent_w)
    sample_size = getattr(model.denoiser.unet.config, "sample_size", None)
    made_for = (sample_size, sample_size) if isinstance(sample_size, int) else tuple(sample_size) if sample_size else None
    if made_for is not None and made_for != (latent_h, latent_w):
        pixels = str(made_for[0] * factor) if made_for[0] == made_for[1] else f"{made_for[1] * factor}x{made_for[0] * factor}"
        raise CheckpointError(f"{config_path}: resolution {resolution} gives {latent}-pixel latents, but the UNet was "
                              f"made for {sample_size} (unet.kwargs.sample_size), that is resolution {pixels}")  # fmt: skip


def load_model(directory: str | os.PathLike, *, map_location: str | torch.device = "cpu"):
    """Build the FPDM of ``directory`` and load its weights (strict, shapes checked)."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    from fpdm_video.models.config_check import check_buildable
    from fpdm_video.models.fpdm import FPDM

    directory = resolve_checkpoint(directory)
    config = load_config(directory)
    try:
        check_buildable(config)
    except InputError as exc:
        raise CheckpointError(f"checkpoint config {directory / CONFIG_NAME} is invalid: {exc}") from None
    if config.student is not None and config.student.lora and weights_file(directory).name == ADAPTER_NAME:
        # a LoRA student's adapter alone (a merged one, saved whole by a later stage, loads as any checkpoint)
        return _load_lora_student(directory, config, map_location)
    weights = directory / WEIGHTS_NAME
    if weights.is_dir():
        raise CheckpointError(f"checkpoint {directory} is incomplete: {WEIGHTS_NAME} is a folder, not a file")
    if not weights.is_file():
        raise CheckpointError(f"checkpoint {directory} is incomplete: {WEIGHTS_NAME} is missing")
    try:
        state = load_file(str(weights), device=str(map_location))
        with safe_open(str(weights), "pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read {weights}: {exc}") from None
    try:
        model = FPDM(config, load_pretrained=False)
    except ValueError as exc:  # the config cannot build a model (InputError included)
        raise CheckpointError(f"checkpoint config {directory / CONFIG_NAME} is invalid: {exc}") from None
    except (TypeError, KeyError, IndexError, AttributeError, ZeroDivisionError, RuntimeError, MemoryError) as exc:
        # a value that passed the checks but not a library's constructor: still the config's fault, not a bug here
        raise CheckpointError(f"checkpoint config {directory / CONFIG_NAME} cannot build a model: {type(exc).__name__}: "
                              f"{exc}") from None  # fmt: skip
    check_resolution(model, metadata, directory / CONFIG_NAME)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k} (set by {config_field_of(k)}): the config gives {tuple(expected[k].shape)}, the weights hold "
             f"{tuple(state[k].shape)}" for k in expected if k in state and state[k].shape != expected[k].shape]  # fmt: skip
    if missing or unexpected or wrong:
        parts = []
        if wrong:
            parts.append(f"{len(wrong)} shape mismatch(es), e.g. " + "; ".join(wrong[:3]))
        if missing:
            parts.append(f"{len(missing)} missing tensor(s), e.g. {missing[:3]}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensor(s), e.g. {unexpected[:3]}")
        raise CheckpointError(f"{weights} does not match {directory / CONFIG_NAME}: " + "; ".join(parts))
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    return model.eval()


def teacher_folder(directory: Path, config: FPDMConfig) -> Path:
    """A LoRA student's teacher as it names it: as given (from the working folder), else beside the student."""
    given = Path(str(config.student.teacher.get("path") or ""))
    if not str(given) or str(given) == "None":
        raise CheckpointError(f"LoRA student {directory} does not name its teacher (student.teacher.path in {directory / CONFIG_NAME})")
    for candidate in (given, directory / given):
        if candidate.is_dir():
            return candidate
    raise CheckpointError(f"LoRA student {directory} holds only its adapter and needs its teacher {given}, which is not a "
                          f"folder here; copy the teacher there or edit student.teacher.path in its {CONFIG_NAME}")  # fmt: skip


def _load_lora_student(directory: Path, config: FPDMConfig, map_location):
    """The teacher named in ``config`` (hash checked) with ``directory``'s adapters merged into its weights."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from fpdm_video.models.student_lora import lora_student

    folder = teacher_folder(directory, config)
    expected = config.student.teacher.get("sha256")
    if expected and checkpoint_hash(folder) != expected:
        raise CheckpointError(f"LoRA student {directory} was trained on teacher {folder} with sha256 {expected[:12]}..., "
                              "but that folder now holds other weights; give the teacher it was made from")  # fmt: skip
    teacher = load_model(folder, map_location=map_location)
    try:
        adapter = load_file(str(directory / ADAPTER_NAME), device=str(map_location))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read {directory / ADAPTER_NAME}: {exc}") from None
    return lora_student(teacher, config, adapter, f"{directory} (teacher {folder})")


def checkpoint_hash(directory: str | os.PathLike) -> str:
    """sha256 over the config and the weights of a checkpoint folder (for run records)."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for path in (directory / CONFIG_NAME, weights_file(directory)):
        if not path.is_file():
            raise CheckpointError(f"checkpoint {directory} is incomplete: {path.name} is missing")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
