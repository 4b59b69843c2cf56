"""The one place settings are resolved: what the user gave, over the speed preset, over the checkpoint's own defaults.

    settings = resolve_sampling(request, model_config)

Precedence, field by field: the request (what was given), then the preset it names (``paper`` when
none), then the checkpoint's ``SamplingConfig`` (steps and guidance; for a few-step student its
``StudentConfig``'s steps, scale and eta, its tiny decoder if it has one, and ``turbo`` as the preset),
then the defaults of
:class:`~pipelines.settings.sampling.SamplingSettings`. The result is checked (its own check, and
what depends on the checkpoint: the steps against its noise schedule, step feature caching against
its UNet) and frozen; every front end calls this and nothing else applies presets or defaults.
"""

from __future__ import annotations

from fpdm_video.config import FPDMConfig
from fpdm_video.errors import InputError
from pipelines.settings.presets import SPEED_PRESETS
from pipelines.settings.reuse import Reuse
from pipelines.settings.sampling import SamplingRequest, SamplingSettings


def resolve_sampling(request: SamplingRequest | None, model: FPDMConfig, *, reuse: Reuse = Reuse()) -> SamplingSettings:
    """Checked, frozen settings for ``request`` on a checkpoint whose config is ``model``."""
    request = request or SamplingRequest()
    student = model.student
    speed = request.speed or ("turbo" if student is not None else "paper")
    own = {"steps": model.sampling.steps, "guidance": model.sampling.guidance}
    if student is not None:  # a student's own: the steps, scale and noise share it samples with, its tiny decoder
        own = {"steps": student.steps, "guidance": student.guidance, "decoder": "tiny" if model.tiny_decoder else "vae",
               **({"eta": student.eta} if speed == "turbo" else {})}  # another preset is refused below, not for its eta
    preset = SPEED_PRESETS.get(speed, {})  # an unknown speed is refused by the settings' own check
    given = request.given()
    if "temporal_attention" in given and "temporal_scope" not in given:  # a preset's scope belongs to its anchors
        given["temporal_scope"] = "all"
    values = {**own, **preset, **given, "speed": speed}
    settings = SamplingSettings(**values, reuse=reuse)
    problem = student_problem(settings, model)
    if problem is not None:
        raise InputError(problem)
    from fpdm_video.models.hooks.deep_cache import deep_cache_problem  # here: a parser that imports the settings does not
    from pipelines.samplers.schedule import schedule_problem  # import torch (these two do)

    problem = schedule_problem(model.noise_schedule, settings.steps)
    if problem is not None:
        raise InputError(problem)
    problem = deep_cache_problem(model.unet.kwargs) if settings.deep_cache > 1 else None
    if problem is not None:
        raise InputError(f"deep-cache {settings.deep_cache} cannot run on this model: {problem}")
    return settings



def student_problem(settings: SamplingSettings, model: FPDMConfig) -> str | None:
    """Why ``settings`` cannot sample this checkpoint as a student or a teacher, in one line; None when they can."""
    name = model.name
    if model.student is None:
        if settings.speed == "turbo" or settings.scheduler == "lcm":
            return (f"checkpoint {name} is not a few-step student, so it cannot sample with --speed turbo; make one with "
                    f"python -m fpdm_video.train distill --teacher CHECKPOINT --config CONFIG -o DIR (docs/speed.md)")  # fmt: skip
    elif settings.speed != "turbo" or settings.scheduler != "lcm":
        return (f"checkpoint {name} is a few-step student (of {model.student.teacher.get('path') or 'its teacher'}): it samples "
                "only with --speed turbo and the lcm scheduler; give its teacher for the other presets")  # fmt: skip
    if settings.decoder == "tiny" and model.tiny_decoder is None:
        return f"checkpoint {name} has no tiny decoder; make one with python -m fpdm_video.train tiny-decoder --teacher CHECKPOINT"
    return None
