"""The suites hold under load: tests wait on state or events, never for a fixed time.

A sleep is allowed only as the pause of a loop (a poll of database state such as ``wait_until``, or a test
task's simulated work between progress reports); a bare ``time.sleep(2)`` or ``page.wait_for_timeout(500)``
in a test is a guess at how fast the machine is, and fails under load.
"""

import ast
import os
from pathlib import Path

TESTS_DIR = Path(__file__).parent
SLEEPS = {"sleep", "wait_for_timeout"}


def bare_sleeps(source: str) -> list[int]:
    """Line numbers of sleep calls that are not inside a ``while``/``for`` loop."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name not in SLEEPS:
            continue
        ancestor = parents.get(node)
        while ancestor is not None and not isinstance(ancestor, ast.While | ast.For | ast.AsyncFor):
            ancestor = parents.get(ancestor)
        if ancestor is None:
            found.append(node.lineno)
    return found


def test_no_test_sleeps_for_a_fixed_time():
    offenders = {
        str(path.relative_to(TESTS_DIR)): lines
        for path in sorted(TESTS_DIR.rglob("*.py"))
        if (lines := bare_sleeps(path.read_text()))
    }
    assert offenders == {}


def test_the_rule_tells_a_poll_from_a_fixed_wait():
    source = (
        "import time\n"
        "def poll():\n    while not ready():\n        time.sleep(0.05)\n"
        "def guess(page):\n    time.sleep(2)\n    page.wait_for_timeout(500)\n"
    )
    assert bare_sleeps(source) == [6, 7]


def test_busy_loops_spin_for_the_session_when_asked(busy_loops):
    # None unless OFFSIDE_TEST_BUSY_LOOPS is set; the fixture kills its processes at the session's end.
    assert len(busy_loops) == int(os.environ.get("OFFSIDE_TEST_BUSY_LOOPS") or 0)
    assert all(loop.poll() is None for loop in busy_loops), "every loop still spins"
