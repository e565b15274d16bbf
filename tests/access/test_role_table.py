"""docs/roles.md is the role table of the code, rendered; the table covers every operation."""

from __future__ import annotations

from pathlib import Path

from ioffice.agencies.models import Role
from ioffice.agencies.permissions import RULES, Op, allowed, render_markdown

ROLES_MD = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


def test_docs_roles_md_is_the_table_of_the_code() -> None:
    assert ROLES_MD.read_text(encoding="utf-8") == render_markdown(), (
        "docs/roles.md differs from ioffice/agencies/permissions.py: regenerate it with "
        "`python -m ioffice.agencies.permissions > docs/roles.md`")


def test_every_operation_has_a_rule_and_the_rules_hold_the_issue_cases() -> None:
    assert set(RULES) == set(Op) and all(RULES.values())
    specialist = frozenset({Role.SPECIALIST})
    assert not allowed(specialist, Op.VIEW_TO_DISTRIBUTE)
    assert not allowed(specialist, Op.VIEW_TO_REGISTER)
    assert allowed(frozenset({Role.LEADER}), Op.VIEW_TO_DISTRIBUTE)
    assert allowed(frozenset({Role.CLERK}), Op.VIEW_TO_REGISTER)
    assert not allowed(frozenset({Role.ADMIN}), Op.DRAFT_OUTGOING)
