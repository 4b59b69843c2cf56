"""A few-step student made from a teacher FPDM: the same model, told its guidance scale.

The student is the teacher's architecture with one input more: the UNet's ``time_cond_proj_dim``
(a linear map of the guidance embedding added to the timestep embedding;
:mod:`fpdm_video.models.guidance_embedding`). It starts with every weight of the teacher and that
map at zero, so before training it *is* the teacher's fully conditioned branch. Its config keeps
the teacher's identity and the distillation's settings (:class:`~fpdm_video.config.StudentConfig`),
and it samples with its own step count (``--speed turbo``).
"""

from __future__ import annotations

import copy
from dataclasses import replace

import torch

from fpdm_video.config import FPDMConfig, StudentConfig

GUIDANCE_EMBEDDING_DIM = 256  # as diffusers' LCM-distilled SD models
COND_PROJ = "denoiser.unet.time_embedding.cond_proj.weight"


def is_student(config: FPDMConfig) -> bool:
    return config.student is not None


def student_config(teacher: FPDMConfig, student: StudentConfig, embedding_dim: int = GUIDANCE_EMBEDDING_DIM) -> FPDMConfig:
    """The teacher's config with the guidance input and ``student``'s settings (a teacher that is a student is refused)."""
    if teacher.student is not None:
        raise ValueError(f"model {teacher.name} is already a few-step student; distil from its teacher instead")
    unet = replace(teacher.unet, kwargs={**teacher.unet.kwargs, "time_cond_proj_dim": embedding_dim})
    # "trailing" spacing puts a student's S steps on the teacher's grid (fpdm_video.models.consistency)
    schedule = replace(teacher.noise_schedule, timestep_spacing="trailing")
    return replace(copy.deepcopy(teacher), unet=unet, noise_schedule=schedule, student=student)


def student_from_teacher(teacher, student: StudentConfig):
    """A new FPDM: the teacher's weights, a zero guidance map, and ``student`` in its config."""
    from fpdm_video.models.fpdm import FPDM

    model = FPDM(student_config(teacher.config, student), load_pretrained=False)
    missing, unexpected = model.load_state_dict(teacher.state_dict(), strict=False)
    if unexpected or missing != [COND_PROJ]:
        raise ValueError(f"the student does not match its teacher: missing {missing}, unexpected {unexpected}")
    with torch.no_grad():
        model.state_dict()[COND_PROJ].zero_()
    return model.to(next(teacher.parameters()).device)
