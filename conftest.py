"""The repository's root conftest, imported before any test module.

Two suites share the tree and cannot share a process:
- the main suite (`pytest`): nameko runs services inside the test process, so eventlet's
  monkey patching is applied first, as `nameko run` and `nameko test` apply it;
- the browser suite (`SAMSPIL_BROWSER_TESTS=1 pytest tests/browser`): Playwright's
  synchronous API deadlocks under eventlet, so that process is not patched and runs the
  whole system as `samspil run` in a child process instead.
Each suite ignores the other's tests.
"""

import os
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)

BROWSER_SUITE = os.environ.get("SAMSPIL_BROWSER_TESTS") == "1"
BROWSER_TESTS = Path(__file__).resolve().parent / "tests" / "browser"

if not BROWSER_SUITE:
    import eventlet

    eventlet.monkey_patch()


def pytest_ignore_collect(collection_path: Path, config: object) -> bool | None:
    inside = collection_path == BROWSER_TESTS or BROWSER_TESTS in collection_path.parents
    if BROWSER_SUITE:
        # Only the browser tests (and the folders leading to them) are collected.
        leads_there = collection_path in BROWSER_TESTS.parents
        return None if inside or leads_there else True
    return True if inside else None
