"""PG00 substitution markers across one transaction (no CBP error code exists for these).

S starts group N, E ends the open group, R replaces its record with group N. Numbers are
0001-9999, unique and sequential (each S is the previous S + 1) within the transaction; an E
may omit its number (the chapter's own example sends "PG00E").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.errors import Problem
from gateway.pgams import codes
from gateway.pgams.rules import RecordView, problem_at

_SUBSTITUTION_NUMBER = re.compile(r"\d{4}")


def check_substitutions(records: Sequence[RecordView]) -> list[Problem]:
    """PG00 S/E/R markers: numbers 0001-9999, unique and sequential, S closed by E, R known."""
    problems: list[Problem] = []
    started: dict[str, int] = {}
    replacements: list[tuple[RecordView, str]] = []
    open_group: tuple[str, RecordView] | None = None
    last_number: int | None = None
    for record in records:
        if record.type != "PG00":
            continue
        at = f"PG00 at record {record.index}"
        action = record.fields.get("substitution_action")
        number = record.fields.get("substitution_number")
        if action not in codes.substitution_actions():
            problems.append(
                problem_at(
                    record,
                    f"{at}: substitution action {action!r} is not S "
                    "(start), E (end) or R (replace)",
                    None,
                    "substitution_action",
                    "5",
                )
            )
            continue
        if number is not None and (
            not isinstance(number, str)
            or not _SUBSTITUTION_NUMBER.fullmatch(number)
            or number == "0000"
        ):
            problems.append(
                problem_at(
                    record,
                    f"{at}: substitution number {number!r} is not 0001-9999",
                    None,
                    "substitution_number",
                    "6-9",
                )
            )
            continue
        if number is None and action in ("S", "R"):
            problems.append(
                problem_at(
                    record,
                    f"{at}: action {action} needs a substitution number",
                    None,
                    "substitution_number",
                    "6-9",
                )
            )
            continue
        if action == "S":
            assert isinstance(number, str)
            if open_group is not None:
                problems.append(
                    problem_at(
                        record,
                        f"{at} starts group {number} while group "
                        f"{open_group[0]} (record {open_group[1].index}) has "
                        "no PG00 E yet",
                    )
                )
            if number in started:
                problems.append(
                    problem_at(
                        record,
                        f"{at}: substitution number {number} is "
                        f"already used at record {started[number]}",
                        None,
                        "substitution_number",
                        "6-9",
                    )
                )
            elif last_number is not None and int(number) != last_number + 1:
                problems.append(
                    problem_at(
                        record,
                        f"{at}: substitution number {number} should "
                        f"be {last_number + 1:04d} (numbers are sequential)",
                        None,
                        "substitution_number",
                        "6-9",
                    )
                )
            started.setdefault(number, record.index)
            last_number = int(number)
            open_group = (number, record)
        elif action == "E":
            if open_group is None:
                problems.append(
                    problem_at(record, f"{at} ends a substitution group but no PG00 S started one")
                )
            elif number is not None and number != open_group[0]:
                problems.append(
                    problem_at(
                        record,
                        f"{at} ends group {number} but the open group is {open_group[0]}",
                        None,
                        "substitution_number",
                        "6-9",
                    )
                )
            open_group = None
        else:
            assert isinstance(number, str)
            replacements.append((record, number))
    if open_group is not None:
        problems.append(
            problem_at(
                open_group[1],
                f"PG00 at record {open_group[1].index} starts "
                f"group {open_group[0]} that no PG00 E ends",
            )
        )
    for record, number in replacements:
        if number not in started:
            problems.append(
                problem_at(
                    record,
                    f"PG00 at record {record.index} replaces with "
                    f"group {number}, which no PG00 S defines",
                    None,
                    "substitution_number",
                    "6-9",
                )
            )
    return problems
