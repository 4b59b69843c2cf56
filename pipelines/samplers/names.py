"""The samplers' names and which take an eta, without torch: the settings and the command lines' parsers read them."""

from __future__ import annotations

SAMPLER_NAMES = ("ddpm", "ddim", "dpmpp_2m", "lcm")  # the keys of pipelines.samplers.SAMPLERS, in its order
OWN_ETA = {"ddim": 0.0, "lcm": 1.0}  # the samplers that take an eta, and theirs when none is given (DDIM deterministic, LCM's fresh noise)
