"""The messages citizens receive: exact text, signature first, and within their SMS budget."""

from __future__ import annotations

import string
from datetime import date, timedelta

import pytest

from services.notify.replies import Progress, state_phrase
from services.notify.sms import segments
from services.notify.templates import TEMPLATES, format_date, render
from services.routing.catalogue import load_catalogue

LONG_SIGNATURE = "【宁海12345】"


def longest_date() -> str:
    leap_year = [date(2024, 1, 1) + timedelta(days=n) for n in range(366)]
    return max((format_date(day) for day in leap_year), key=len)


def longest_values() -> dict[str, str]:
    """The longest value each template variable can take."""
    return {
        "tracking_no": "20261231-999999",
        "into_tracking_no": "20261231-999998",
        "access_code": "ZZZZZZ",
        "promised_date": longest_date(),
        "deadline": longest_date(),
        "department": longest_department(),
        "state": longest_state(),
        # The digest names three cases and how many there were in all.
        "count": "999",
        "cases": "、".join(["20261231-999999"] * 3) + "等999件",
    }


def longest_department() -> str:
    return max((entry.name for entry in load_catalogue()), key=len)


def longest_state() -> str:
    """The longest answer to "JD": every status, with the longest department and date."""
    statuses = ("received", "dispatched", "handling", "awaiting_citizen", "resolved", "rated")
    statuses += ("closed", "answered", "merged", "unknown")
    return max(
        (
            state_phrase(Progress(s, longest_department(), longest_date(), "20261231-999999"))
            for s in statuses
        ),
        key=len,
    )


def variables(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_dates_read_as_month_and_day_without_leading_zeros() -> None:
    assert format_date(date(2026, 12, 31)) == "12月31日"
    assert format_date(date(2026, 1, 5)) == "1月5日"
    assert longest_date() == "10月10日"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_filled_with_longest_values_fits_its_segment_budget(name: str) -> None:
    template = TEMPLATES[name]
    known = longest_values()
    unknown = variables(template.text) - known.keys()
    assert not unknown, f"no longest value known for {sorted(unknown)}: add it to this test"

    message = render(name, LONG_SIGNATURE, **{v: known[v] for v in variables(template.text)})

    assert message.segments <= template.max_segments, message.text


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_rendered_text_is_signature_then_the_template_filled_in(name: str) -> None:
    template = TEMPLATES[name]
    values = {v: f"<{v}>" for v in variables(template.text)}

    message = render(name, LONG_SIGNATURE, **values)

    assert message.template == name
    assert message.text == LONG_SIGNATURE + template.text.format(**values)
    assert message.segments == segments(message.text)


def test_dispatched_notice_reads_exactly_as_the_citizen_receives_it() -> None:
    message = render(
        "case_dispatched",
        LONG_SIGNATURE,
        tracking_no="20261127-000001",
        department="县住房和城乡建设局",
        deadline=format_date(date(2026, 12, 16)),
    )

    assert message.text == (
        "【宁海12345】您的诉求20261127-000001已交县住房和城乡建设局办理，将于12月16日前答复。"
    )
    assert message.segments == 1


def test_received_notice_carries_tracking_number_access_code_and_promised_date() -> None:
    message = render(
        "case_received",
        LONG_SIGNATURE,
        tracking_no="20261127-000001",
        access_code="7K3MPX",
        promised_date=format_date(date(2026, 12, 2)),
    )

    assert message.text.startswith(LONG_SIGNATURE)
    for shown in ("20261127-000001", "7K3MPX", "12月2日"):
        assert shown in message.text
    assert "{" not in message.text
