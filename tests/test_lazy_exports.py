"""The packages whose names are imported on first use (``fpdm_video.lazy_exports``) offer each name they list."""

from __future__ import annotations

import importlib

import pytest

LAZY_PACKAGES = ("pipelines", "pipelines.samplers", "pipelines.transfer", "fpdm_video.models", "fpdm_video.models.hooks")


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_each_listed_name_is_there_and_an_unknown_one_is_an_attribute_error(name):
    package = importlib.import_module(name)
    assert package.__all__
    for attribute in package.__all__:
        value = getattr(package, attribute)
        owner = getattr(value, "__module__", None)
        assert owner is None or owner.startswith(("pipelines", "fpdm_video", "builtins", "typing")), (attribute, owner)
    with pytest.raises(AttributeError, match=f"module '{name}' has no attribute 'nope'"):
        package.nope  # noqa: B018
    from_import = {}
    exec(f"from {name} import {package.__all__[0]} as first", from_import)  # noqa: S102 (the form users write)
    assert from_import["first"] is getattr(package, package.__all__[0])
