"""Convert the official FPDM checkpoints (stage 2, and optionally stage 1) to a model of this project."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import torch

from fpdm_video.errors import CheckpointError
from fpdm_video.models.encoders_hf import in_current_names
from fpdm_video.models.official.config import converted_config
from fpdm_video.models.official.keys import STAGE1_PREFIX, convert_state, stage1_as_stage2
from fpdm_video.models.official.reader import read_checkpoint

logger = logging.getLogger(__name__)


@dataclass
class ConversionReport:
    """What the conversion did with every official tensor."""

    mapped: int = 0  # tensors loaded into the converted model
    dropped: dict[str, list[str]] = field(default_factory=dict)  # reason -> official names
    stage1: str = "not given"  # how the stage-1 checkpoint relates to stage 2's fusion model
    hyper_parameters: dict = field(default_factory=dict)  # the official ones, as read


def _with_stage1(state: dict[str, torch.Tensor], stage1_path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], str]:
    """Stage 2's state with the fusion model of stage 1 where stage 2 lacks it; says whether the two agree."""
    stage1 = stage1_as_stage2(read_checkpoint(stage1_path).state_dict)
    own = {k: v for k, v in state.items() if k.startswith(STAGE1_PREFIX)}
    if not own:
        return {**state, **stage1}, "stage 2 holds no fusion model: taken from stage 1"
    if set(own) != set(stage1):
        raise CheckpointError(f"the fusion model of {stage1_path} has other tensors than the one inside the stage-2 checkpoint")
    same = all(torch.equal(own[k], stage1[k]) for k in own)
    return state, "equal to stage 2's fusion model" if same else "differs from stage 2's fusion model, which is used (it is the one stage 2 was trained with)"


def convert_official(diffusion: str | os.PathLike, fusion: str | os.PathLike | None = None, *, sd: str | None = None,
                     fusion_encoder: str | None = None, source_encoder: str | None = None, pose_style: str = "openpose18"):  # fmt: skip
    """(FPDM with the official weights, ConversionReport). Reads the checkpoints safely (see ``reader``)."""
    from fpdm_video.models.fpdm import FPDM

    stage2 = read_checkpoint(diffusion)
    report = ConversionReport(hyper_parameters=stage2.hyper_parameters)
    state = stage2.state_dict
    if fusion is not None:
        state, report.stage1 = _with_stage1(state, fusion)
    config = converted_config(stage2.hyper_parameters, sd=sd, fusion_encoder=fusion_encoder, source_encoder=source_encoder,
                              pose_style=pose_style)
    converted, report.dropped = convert_state(state)
    model = FPDM(config, load_pretrained=False)
    for prefix, encoder in (("fusion.encoder.model.", model.fusion.encoder.model), ("source_encoder.encoder.model.",
                                                                                  model.source_encoder.encoder.model)):  # fmt: skip
        part = {k[len(prefix):]: converted.pop(k) for k in [k for k in converted if k.startswith(prefix)]}
        converted.update({prefix + k: v for k, v in in_current_names(encoder, part).items()})
    expected = model.state_dict()
    missing = sorted(set(expected) - set(converted))
    unexpected = sorted(set(converted) - set(expected))
    wrong = [f"{k}: official {tuple(converted[k].shape)}, converted config {tuple(expected[k].shape)}"
             for k in expected if k in converted and converted[k].shape != expected[k].shape]  # fmt: skip
    if missing or unexpected or wrong:
        parts = [f"{len(missing)} weight(s) the official checkpoint lacks: {', '.join(missing[:5])}" if missing else "",
                 f"{len(unexpected)} official tensor(s) the converted model has no place for: {', '.join(unexpected[:5])}" if unexpected else "",
                 f"{len(wrong)} shape mismatch(es): {'; '.join(wrong[:3])}" if wrong else ""]  # fmt: skip
        raise CheckpointError(f"{diffusion} does not convert: " + "; ".join(p for p in parts if p))
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in converted.items()})
    report.mapped = len(converted)
    return model.eval(), report
