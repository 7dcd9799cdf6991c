"""The package map holds: wiring happens in one place, not as a side effect of
importing a module (see README, "What is where")."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "briefings"
WIRING = PACKAGE / "signals.py"


def our_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


IMPORT_TIME_WIRING = ("atexit.register", "checks.register", "reversion.register")


def module_level_calls(tree):
    """Calls made when the module is imported (not inside a function)."""
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.ClassDef):
            yield from statement.decorator_list
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                yield node


@pytest.mark.parametrize(
    "path", list(our_modules()), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_signals_checks_and_revisions_are_wired_only_in_signals_py(path):
    if path == WIRING:
        return
    tree = ast.parse(path.read_text())
    wired = []
    for call in module_level_calls(tree):
        name = ast.unparse(call.func if isinstance(call, ast.Call) else call)
        if (
            name == "receiver"
            or "connect" in name.rsplit(".", 1)[-1]  # post_save.connect, _connect()
            or name.startswith(IMPORT_TIME_WIRING)
        ):
            wired.append(ast.unparse(call))
    assert wired == [], f"{path.name} wires at import time: {wired}"


def test_every_module_is_in_a_domain_package():
    """Only the gathering modules sit at the top of the app."""
    top = {path.name for path in PACKAGE.glob("*.py")}
    assert top == {"__init__.py", "admin.py", "apps.py", "models.py", "signals.py"}


@pytest.mark.django_db
def test_the_ready_hook_connects_the_content_signals():
    """A save of content reaches the page cache's version clock."""
    from briefings.core import freshness
    from tests.factories import ArticleFactory

    before = freshness.current_version()
    ArticleFactory()
    assert freshness.current_version() > before
