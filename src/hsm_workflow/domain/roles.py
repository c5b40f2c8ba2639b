"""The roles the procedures need (codes used in diagrams' ``camunda:candidateGroups``)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleDefinition:
    code: str
    title: str
    oversight: bool = False  # sees every case of its unit (need-to-know oversight)


ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition("caseworker", "Caseworker"),
    RoleDefinition("senior_tutor", "Senior Tutor", oversight=True),
    RoleDefinition("master", "Master", oversight=True),
    RoleDefinition("college_tutor", "College Tutor"),
    RoleDefinition("dean", "Dean"),
    RoleDefinition("investigator", "Investigator"),
    RoleDefinition("review_panel", "Review Panel member"),
    RoleDefinition("gpc_secretary", "Secretary of the General Purposes Committee"),
    RoleDefinition("pastoral_lead", "Pastoral Lead"),
    RoleDefinition("head_of_department", "Head of Department"),
    RoleDefinition("hr_director", "Director of HR", oversight=True),
    RoleDefinition("dswss", "Director of Student Welfare and Support Services"),
    RoleDefinition("mediator", "Mediator"),
    RoleDefinition("registrar", "Registrar"),
    RoleDefinition("proctor", "Proctor", oversight=True),
    RoleDefinition("disciplinary_panel", "Student Disciplinary Panel member"),
    RoleDefinition("appeals_panel", "Student Appeals Panel member"),
)
