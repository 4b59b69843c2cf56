"""Per-frame metric curves as a PNG."""

from __future__ import annotations

from pathlib import Path

from fpdm_video.atomic import atomic_path


def plot_series(series: dict[str, list[float]], path: Path, title: str = "") -> Path:
    """One panel per metric family (image, flicker, warping, identity), per-frame values against frame index."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = {}
    for key, values in series.items():
        family = key.split("_")[0]
        families.setdefault(family, []).append((key, values))
    fig, axes = plt.subplots(len(families), 1, figsize=(7, 2.2 * len(families)), squeeze=False)
    for ax, (family, items) in zip(axes[:, 0], families.items(), strict=True):
        for key, values in items:
            ax.plot(range(len(values)), values, lw=1.2, label=key)
        ax.set_ylabel(family)
        ax.legend(fontsize=7, loc="best")
    axes[-1, 0].set_xlabel("frame")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
