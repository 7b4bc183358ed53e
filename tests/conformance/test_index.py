"""The conformance index: every in-scope §K item of ``checklist.txt`` is cited by a test.

A test cites an item by naming its ID in its name or docstring (``V-04``, ``test_v04_…``).
Items not covered yet (mostly: not built) are listed in :data:`PENDING`, in this one place,
with the reason; everything else must be cited, or this test fails and names what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CHECKLIST = HERE / "checklist.txt"
TEST_DIRS = (ROOT / "tests", ROOT / "aauth-signing" / "tests")
ID = re.compile(r"^(V|AG|RS|PS|AS|AP)-\d{2}$")
CITATION = re.compile(r"(?<![A-Za-z0-9])(V|AG|RS|PS|AS|AP)[-_]?(\d{2})(?!\d)", re.IGNORECASE)

#: §K items not covered yet, each with the reason (mostly: not built); remove an item here
#: once a test cites it.
PENDING: dict[str, str] = {}


def checklist_ids() -> list[str]:
    ids = []
    for line in CHECKLIST.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            ids.append(line.split(" ", 1)[0])
    return ids


def cited_ids() -> dict[str, list[str]]:
    """ID → the test files citing it (this index and the checklist do not count)."""
    cited: dict[str, list[str]] = {}
    for directory in TEST_DIRS:
        for path in sorted(directory.rglob("test_*.py")):
            if path == Path(__file__):
                continue
            for match in CITATION.finditer(path.read_text(encoding="utf-8")):
                name = f"{match[1].upper()}-{match[2]}"
                cited.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return cited


def test_the_checklist_is_the_digests_158_items_each_once() -> None:
    ids = checklist_ids()
    assert len(ids) == 158
    assert len(set(ids)) == len(ids)
    assert all(ID.match(i) for i in ids), [i for i in ids if not ID.match(i)]


def test_pending_items_are_checklist_items() -> None:
    assert set(PENDING) <= set(checklist_ids())


def test_every_in_scope_item_is_cited_by_a_test() -> None:
    cited = cited_ids()
    missing = [i for i in checklist_ids() if i not in PENDING and i not in cited]
    assert not missing, f"§K items with no test citing them: {', '.join(missing)}"
