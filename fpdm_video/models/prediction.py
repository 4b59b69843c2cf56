"""Conversions between what the model predicts (ε or v) and the clean-sample estimate x̂_0.

With ``x_t = sqrt(ᾱ) x_0 + sqrt(1 - ᾱ) ε`` (Ho et al. 2020, eq. 4) and the velocity
``v = sqrt(ᾱ) ε - sqrt(1 - ᾱ) x_0`` (Salimans & Ho 2022, sec. 4; eq. 4.1 of Imagen Video):

- ε-prediction: ``x̂_0 = (x_t - sqrt(1 - ᾱ) ε̂) / sqrt(ᾱ)``  (Ho et al. eq. 15 rearranged)
- v-prediction: ``x̂_0 = sqrt(ᾱ) x_t - sqrt(1 - ᾱ) v̂``,  ``ε̂ = sqrt(ᾱ) v̂ + sqrt(1 - ᾱ) x_t``
"""

from __future__ import annotations

from torch import Tensor


def predicted_x0_and_eps(
    sample: Tensor, model_output: Tensor, alpha_bar: float | Tensor, prediction_type: str
) -> tuple[Tensor, Tensor]:
    """(x̂_0, ε̂), both shaped like ``sample`` (B, C, h, w), from the model output at noise level ᾱ.

    ``alpha_bar`` is one float (a sampler's step) or a tensor that broadcasts against ``sample``,
    e.g. (B, 1, 1, 1) with one level per row (training).
    """
    sqrt_ab, sqrt_one_minus_ab = alpha_bar**0.5, (1.0 - alpha_bar) ** 0.5
    if prediction_type == "epsilon":
        eps = model_output
        x0 = (sample - sqrt_one_minus_ab * eps) / sqrt_ab
    elif prediction_type == "v_prediction":
        x0 = sqrt_ab * sample - sqrt_one_minus_ab * model_output
        eps = sqrt_ab * model_output + sqrt_one_minus_ab * sample
    else:
        raise ValueError(f"unknown prediction_type {prediction_type!r}; use 'epsilon' or 'v_prediction'")
    return x0, eps


def model_output_for_x0(sample: Tensor, x0: Tensor, alpha_bar: float, prediction_type: str) -> Tensor:
    """The model output (ε or v) at ``sample`` (x_t) that :func:`predicted_x0_and_eps` reads back as ``x0``.

    The implied noise is ``ε = (x_t - sqrt(ᾱ) x_0) / sqrt(1 - ᾱ)``; then ``v = sqrt(ᾱ) ε - sqrt(1 - ᾱ) x_0
    = (sqrt(ᾱ) x_t - x_0) / sqrt(1 - ᾱ)``. Needs ᾱ < 1 (every sampler step's level is).
    """
    sqrt_ab, sqrt_one_minus_ab = alpha_bar**0.5, (1.0 - alpha_bar) ** 0.5
    if prediction_type == "epsilon":
        return (sample - sqrt_ab * x0) / sqrt_one_minus_ab
    if prediction_type == "v_prediction":
        return (sqrt_ab * sample - x0) / sqrt_one_minus_ab
    raise ValueError(f"unknown prediction_type {prediction_type!r}; use 'epsilon' or 'v_prediction'")
