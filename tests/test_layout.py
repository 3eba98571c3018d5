"""The shape DESIGN.md asks for, checked: SQL lives in store/, and store modules stay small."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fedchirp"
STORE = PACKAGE / "store"
SQL = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM|"
    r"CREATE (TABLE|INDEX|TRIGGER)|ALTER TABLE|DROP TABLE)\b",
    re.DOTALL,
)
# The command line names database errors and URLs (to report them in one line).
SQLALCHEMY_OUTSIDE_STORE = {"fedchirp/cli.py": {"sqlalchemy.exc", "sqlalchemy.engine"}}


def _modules(outside_store: bool) -> list[Path]:
    found = sorted(PACKAGE.rglob("*.py"))
    return [p for p in found if (STORE not in p.parents) == outside_store]


def test_no_sql_outside_the_store():
    for path in _modules(outside_store=True):
        relative = path.relative_to(PACKAGE.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not SQL.search(node.value), f"SQL in {relative}: {node.value[:60]!r}"
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [alias.name for alias in node.names]
                )
                for name in names:
                    if name.split(".")[0] == "sqlalchemy":
                        allowed = SQLALCHEMY_OUTSIDE_STORE.get(relative, set())
                        assert name in allowed, f"{relative} imports {name}"


def test_every_store_module_is_under_400_lines():
    for path in _modules(outside_store=False):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines < 400, f"{path.relative_to(PACKAGE.parent)} has {lines} lines"


def test_no_two_store_modules_define_the_same_method():
    """Store is one class made of every module's Queries: a name defined twice would
    silently serve one module's callers with the other's method."""
    from fedchirp.store import Store

    owners: dict[str, str] = {}
    for part in Store.__mro__[1:]:
        if not part.__module__.startswith("fedchirp.store."):
            continue
        for name in vars(part):
            if name.startswith("__"):
                continue
            assert name not in owners, f"{name} is in both {owners[name]} and {part.__name__}"
            owners[name] = part.__name__
