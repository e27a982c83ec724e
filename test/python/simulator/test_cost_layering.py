"""Package layering of the cost model: the compiler's tile pass and the simulator both build on
mixpe.hw, which depends on neither (issue #12)."""

from __future__ import annotations

import ast
from pathlib import Path

import mixpe

ROOT = Path(mixpe.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at top level or inside functions (plus `module.name` for
    each name a `from module import name` takes, as the name may be a submodule)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)  # from pkg import module
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_hw_imports_no_higher_layer():
    higher = ("simulator", "transforms", "backend", "tools", "eval")
    bad = {(str(p.relative_to(ROOT)), m) for p in (ROOT / "hw").rglob("*.py") for m in _imports(p)
           if any(m == f"mixpe.{h}" or m.startswith(f"mixpe.{h}.") for h in higher)}
    assert not bad


def test_tile_pass_uses_only_hw():
    allowed = ("mixpe.diagnostics", "mixpe.dialects", "mixpe.hw", "mixpe.reference.ir_types")  # never simulator/backend
    mods = {m for m in _imports(ROOT / "transforms" / "mixpe_tile.py") if m.startswith("mixpe.")}
    assert mods and all(any(m == a or m.startswith(a + ".") for a in allowed) for m in mods), mods


def test_eval_imports_no_tools_and_no_cycles():
    files = {p.stem: _imports(p) for p in (ROOT / "eval").glob("*.py") if p.stem != "__init__"}
    assert not {k for k, v in files.items() if any(m.startswith("mixpe.tools") for m in v)}
    graph = {k: {m.split(".")[2] for m in v if m.startswith("mixpe.eval.")} & set(files) for k, v in files.items()}

    def reaches(a, b, seen=()):
        return any(n == b or (n not in seen and reaches(n, b, (*seen, n))) for n in graph[a])

    assert not [k for k in graph if reaches(k, k)]


def test_presets_ship_in_hw():
    from mixpe.hw import PRESET_DIR, list_presets

    assert PRESET_DIR == ROOT / "hw" / "presets"
    assert "mixpe-w4a8" in list_presets() and (PRESET_DIR / "_base-28nm.toml").is_file()
