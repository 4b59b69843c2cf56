"""The import rules of DESIGN.md: flows -> pipelines -> fpdm_video, Prefect only in flows/, and no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {"fpdm_video/transfer.py", "fpdm_video/evaluate.py", "fpdm_video/demo.py"}  # may import pipelines, as app/ may
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
        entry = rel in ENTRY_POINTS or rel.startswith("fpdm_video/app/")
        if "flows" in roots or ("pipelines" in roots and not entry):
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


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``packages`` under ``root`` (a package is its __init__)."""
    out = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere in its file (lazy imports inside functions count too)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's package
                    package = name.split(".") if is_package else name.split(".")[:-1]
                    base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm): each is an import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def test_no_import_circles():
    graph = import_graph(module_files(ROOT, ("fpdm_video", "pipelines", "flows")))
    assert len(graph) > 100 and sum(map(len, graph.values())) > 200  # the graph was read
    assert import_circles(graph) == []


def test_the_circle_finder_finds_a_lazy_circle(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "model.py").write_text("def save():\n    from pkg.checkpoint import write\n")  # lazy, as FPDM's was
    (tmp_path / "pkg" / "checkpoint.py").write_text("from pkg.model import save\n")
    (tmp_path / "pkg" / "other.py").write_text("from . import model\n")
    graph = import_graph(module_files(tmp_path, ("pkg",)))
    assert graph["pkg.other"] == {"pkg.model"}
    assert import_circles(graph) == [["pkg.checkpoint", "pkg.model"]]
