"""The one place settings are resolved: what the user gave, over the speed preset, over the checkpoint's own defaults.

    settings = resolve_sampling(request, model_config)

Precedence, field by field: the request (what was given), then the preset it names (``paper`` when
none), then the checkpoint's ``SamplingConfig`` (steps and guidance), then the defaults of
:class:`~pipelines.settings.sampling.SamplingSettings`. The result is checked (its own check, and
what depends on the checkpoint: the steps against its noise schedule, step feature caching against
its UNet) and frozen; every front end calls this and nothing else applies presets or defaults.
"""

from __future__ import annotations

from fpdm_video.config import FPDMConfig
from fpdm_video.errors import InputError
from fpdm_video.models.hooks.deep_cache import deep_cache_problem
from pipelines.samplers.schedule import schedule_problem
from pipelines.settings.presets import SPEED_PRESETS
from pipelines.settings.reuse import Reuse
from pipelines.settings.sampling import SamplingRequest, SamplingSettings


def resolve_sampling(request: SamplingRequest | None, model: FPDMConfig, *, reuse: Reuse = Reuse()) -> SamplingSettings:
    """Checked, frozen settings for ``request`` on a checkpoint whose config is ``model``."""
    request = request or SamplingRequest()
    speed = request.speed or "paper"
    own = model.sampling
    preset = SPEED_PRESETS.get(speed, {})  # an unknown speed is refused by the settings' own check
    values = {"steps": own.steps, "guidance": own.guidance, **preset, **request.given(), "speed": speed}
    settings = SamplingSettings(**values, reuse=reuse)
    problem = schedule_problem(model.noise_schedule, settings.steps)
    if problem is not None:
        raise InputError(problem)
    problem = deep_cache_problem(model.unet.kwargs) if settings.deep_cache > 1 else None
    if problem is not None:
        raise InputError(f"deep-cache {settings.deep_cache} cannot run on this model: {problem}")
    return settings

