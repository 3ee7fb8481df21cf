"""hooks/launcher.py is what Claude Code runs for every session: standard library only, nothing of the package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parents[2] / "hooks" / "launcher.py"


def test_the_launcher_imports_only_the_standard_library() -> None:
    tree = ast.parse(LAUNCHER.read_text())
    names = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    names |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert names - {"__future__"} <= set(sys.stdlib_module_names), names - set(sys.stdlib_module_names)
    assert "server" not in names and "dashboard" not in names


def test_the_launcher_runs_isolated_and_says_how_to_use_it_without_arguments() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).resolve()), "-I", "-S", str(LAUNCHER)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and "usage: launcher.py SWITCHBOARD_COMMAND" in done.stderr
