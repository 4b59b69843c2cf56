"""Hugging Face hub names that moved: Stability AI's Stable Diffusion 2.x repositories and their mirrors.

Stability AI removed its SD 2.x repositories (``stabilityai/stable-diffusion-2-1``,
``stabilityai/stable-diffusion-2-1-base`` and the rest of the family) from the hub in November 2025.
The ``sd2-community`` organisation keeps mirrors with the same files under the same repository
names. This project accepts either name wherever a Stable Diffusion name is read, and a name that
cannot be fetched gets the mirror named in its error.
"""

from __future__ import annotations

REMOVED_OWNER = "stabilityai"
MIRROR_OWNER = "sd2-community"


def sd2_mirror(name: str) -> str | None:
    """The sd2-community mirror of a removed ``stabilityai/stable-diffusion-2*`` name; None for any other name."""
    owner, _, repo = str(name).partition("/")
    if owner != REMOVED_OWNER or not repo.startswith("stable-diffusion-2"):
        return None
    return f"{MIRROR_OWNER}/{repo}"


def same_sd2(name: str) -> str:
    """The name with a mirror written as the original it mirrors, so that both compare equal."""
    owner, _, repo = str(name).partition("/")
    return f"{REMOVED_OWNER}/{repo}" if owner == MIRROR_OWNER and repo.startswith("stable-diffusion-2") else str(name)


def mirror_hint(name: str) -> str:
    """A sentence to add to the error for a name that could not be fetched ("" when no mirror is known)."""
    mirror = sd2_mirror(name)
    if mirror is None:
        return ""
    return f"; Stability AI removed {name} from the hub in November 2025, its mirror is {mirror} (hf download {mirror} --local-dir DIR)"
