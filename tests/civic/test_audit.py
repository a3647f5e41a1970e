"""The audit log in words: every action civic records reads as a phrase on the officer home, never as its code."""

from __future__ import annotations

import ast
from pathlib import Path

from civic import audit
from civic.officers import attention
from tests.factories import create_user_ok

CIVIC = Path(__file__).resolve().parents[2] / "civic"


def recorded_actions() -> tuple[set[str], set[str]]:
    """Every action passed to audit.record in civic/: the fixed ones, and the fixed start of those built with an f-string."""
    fixed, prefixes = set(), set()
    for path in CIVIC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "audit") or len(node.args) < 2:
                continue
            # `"a" if x else "b"` gives both.
            choices = [node.args[1].body, node.args[1].orelse] if isinstance(node.args[1], ast.IfExp) else [node.args[1]]
            for action in choices:
                if isinstance(action, ast.Constant) and isinstance(action.value, str):
                    fixed.add(action.value)
                elif isinstance(action, ast.JoinedStr) and isinstance(action.values[0], ast.Constant):
                    prefixes.add(action.values[0].value)
                else:
                    raise TypeError(f"{path}:{node.lineno}: an audit action this test cannot read")
    return fixed, prefixes


def test_every_audit_action_used_in_civic_has_words():
    fixed, prefixes = recorded_actions()
    assert len(fixed) > 50 and "round.progress_posted" in fixed and "report.made" in fixed  # the scan finds them
    assert sorted(fixed - set(audit.ACTION_WORDS)) == []
    assert sorted(p for p in prefixes if not any(action.startswith(p) for action in audit.ACTION_WORDS)) == []
    assert all(words and words == words.strip() and "." not in words and "_" not in words for words in audit.ACTION_WORDS.values())


async def test_recent_activity_on_the_officer_home_says_what_happened_in_words(council):
    officer = await create_user_ok(council, role="officer", display_name="Olu Officer")
    await audit.record(officer, "round.progress_posted", council=council, reason="Library opening hours")
    await audit.record(None, "report.made", council=council)
    sections = {section.title: section for section in await attention(officer, council)}
    lines = [item.text for item in sections["Recent activity"].items]
    assert lines[0].endswith(": civic reported something to the council")
    assert lines[1].endswith(": Olu Officer posted progress on a priority (Library opening hours)")
    assert not any("round.progress_posted" in line or "report.made" in line for line in lines)
