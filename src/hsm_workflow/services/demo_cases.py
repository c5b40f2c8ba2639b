"""Demo cases in several states for `make run`, made by playing procedure steps on a
clock started weeks ago and brought up to now (so deadlines are really overdue and the
measures' timers have really run)."""
from __future__ import annotations

from datetime import timedelta

from ..clock import SystemClock, VirtualClock
from ..domain.status import CaseStatus
from .cases import count_cases
from .runtime import Runtime

COLLEGE = {"complainant": "Alex Example", "respondent": "Sam Sample", "complaint_received_on": None,
           "complaint_summary": "Repeated unwanted messages and comments in the college bar"}

#: (days ago the story starts, unit, steps in the scenario format of docs/scenarios.md)
STORIES = (
    (40, "downing", [  # investigation overdue; precautionary measures running beside it
        {"start": "college_procedure", "data": {**COLLEGE, "complaint_received_on": "{start}"}},
        {"complete": "Task_Intake", "as": "senior_tutor",
         "data": {"intake_route": "formal_complaint", "intake_reasons": "College procedure chosen"}},
        {"complete": "Task_InitialConsideration", "as": "senior_tutor",
         "data": {"initial_outcome": "investigate", "initial_outcome_reasons": "Specific allegations within scope",
                  "initial_measures_advice": "advise_measures"}},
        {"complete": "Task_AppointInvestigator", "as": "senior_tutor",
         "data": {"investigator_name": "Dr I. Vestigator", "investigator_no_conflict": True,
                  "investigation_allegations_summary": "Messages and comments since October"}},
        {"case": "precautionary_measures"},
        {"complete": "Task_DecideImposition", "as": "master",
         "data": {"measures_decision": "impose", "measures_purpose": ["investigation", "protection"],
                  "measures_types": ["exclusion", "conditions"], "measures_representations": "urgent",
                  "measures_details": "Not to enter N staircase; no contact with the complainant.",
                  "measures_reasons": "Risk of further contact while the complaint is investigated.",
                  "measures_imposed_on": "{start}", "measures_period_days": 21}},
        {"case": "main"},
    ]),
    (2, "downing", [  # a new complaint waiting for the Senior Tutor
        {"start": "college_procedure", "data": {**COLLEGE, "complainant": "Jo Bloggs", "respondent": "Chris Doe",
                                                "complaint_received_on": "{start}"}},
    ]),
    (12, "university", [  # a report to the Proctors' Office
        {"start": "student_disciplinary", "data": {"reporter": "Pat Reporter", "subject": "Lee Subject",
                                                   "report_received_on": "{start}",
                                                   "report_summary": "Harassment at a society event"}},
    ]),
    (20, "chemistry", [  # a staff complaint, later suspended
        {"start": "staff_complaint", "data": {"complainant": "Dr Kim Staff", "complainant_is_student": False,
                                              "subject": "Prof. Ray Senior", "complaint_received_on": "{start}",
                                              "complaint_summary": "Belittling comments in group meetings"}},
    ]),
)


def _resolve(value, start: str):
    if isinstance(value, dict):
        return {k: _resolve(v, start) for k, v in value.items()}
    return start if value == "{start}" else value


def seed_cases(runtime: Runtime) -> int:
    """Create the demo cases once; returns how many were created."""
    from ..scenarios import ScenarioRun
    from . import access, cases

    if count_cases(runtime):
        return 0
    now = SystemClock().now()
    made = []
    for days_ago, unit, steps in STORIES:
        clock = VirtualClock(now - timedelta(days=days_ago))
        story = Runtime(runtime.settings, clock)
        run = ScenarioRun(story, clock, unit)
        start = clock.now().date().isoformat()
        for step in steps:
            run.perform(_resolve(step, start))
        run.advance({"advance": now.isoformat()})
        made.append(run.main)
        story.dispose()
    cases.set_status(runtime, access.principal(runtime, "admin"), made[-1], CaseStatus.SUSPENDED,
                     reason="Police investigation: procedure suspended (demo)")
    return count_cases(runtime)
