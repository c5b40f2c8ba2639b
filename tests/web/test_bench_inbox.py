"""The inbox benchmark's seeding, on a small scale: the rows it writes make a working inbox."""
from __future__ import annotations

from hsm_workflow.services import access

from .bench_inbox import seed_cases, time_inbox
from conftest import as_user


def test_seeded_cases_fill_the_role_holders_inbox(deployed):
    seed_cases(deployed, 250)
    box = access.inbox(deployed, as_user(deployed, "master"))
    assert box.total == 250 and len(box.items) == 200
    assert [item.due_on for item in box.items] == sorted(item.due_on for item in box.items)
    assert access.inbox(deployed, as_user(deployed, "emmanuel_senior_tutor")).total == 0
    assert len(time_inbox(deployed, "master", 2)) == 2
