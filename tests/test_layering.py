"""The import rules of DESIGN.md: flows -> pipelines -> fpdm_video, and Prefect only in flows/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {"fpdm_video/transfer.py", "fpdm_video/evaluate.py", "fpdm_video/app/runner.py"}  # may import pipelines
GRADIO_MODULES = {"fpdm_video/app/ui.py"}  # the web app's page: the only module that imports Gradio


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_fpdm_video_imports_neither_pipelines_nor_flows():
    bad = []
    for path in python_files("fpdm_video"):
        rel = path.relative_to(ROOT).as_posix()
        roots = imported_roots(path)
        if "flows" in roots or ("pipelines" in roots and rel not in ENTRY_POINTS):
            bad.append(rel)
    assert bad == []


def test_pipelines_do_not_import_flows():
    assert [p.name for p in python_files("pipelines") if "flows" in imported_roots(p)] == []


def test_only_flows_import_prefect():
    outside = [p for folder in ("fpdm_video", "pipelines", "benchmarks") for p in python_files(folder)]
    assert [p.relative_to(ROOT).as_posix() for p in outside if "prefect" in imported_roots(p)] == []


def test_only_the_app_page_imports_gradio():
    every = [p for folder in ("fpdm_video", "pipelines", "flows", "benchmarks") for p in python_files(folder)]
    assert [p.relative_to(ROOT).as_posix() for p in every if "gradio" in imported_roots(p)] == sorted(GRADIO_MODULES)
