"""The messages citizens and staff receive: exact text, signature first, within their budget."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.kernel.config import SMS_SIGNATURE_EN_MAX, SMS_SIGNATURE_MAX
from services.kernel.events.contracts import (
    DEPARTMENT_NAME_EN_MAX,
    DEPARTMENT_NAME_MAX,
    Language,
)
from services.notify import policy
from services.notify.replies import Progress, state_phrase
from services.notify.scheduling import DIGEST_NAMES, RELEASE_BATCH
from services.notify.sms import segments
from services.notify.templates import (
    KIND_LABELS,
    NO_LEAD_YET,
    ORDER_ROLE_LABELS,
    PRIORITY_LABELS,
    SCOPE_LABELS,
    TEMPLATES,
    Bilingual,
    Value,
    case_list,
    format_date,
    render,
    variables,
)

LONG_SIGNATURE = "【宁海12345】"
# The longest signatures configuration accepts, in the characters that cost the most.
LONGEST_SIGNATURE = {
    "zh": "【" + "县" * (SMS_SIGNATURE_MAX - 2) + "】",
    "en": "[" * SMS_SIGNATURE_EN_MAX,
}
# Free text a person typed, as long as routing's forms allow (4000 characters).
LONGEST_FREE_TEXT = "缺" * 4000
LANGUAGES: tuple[Language, ...] = ("zh", "en")


def longest_date(language: Language) -> date:
    leap_year = [date(2024, 1, 1) + timedelta(days=n) for n in range(366)]
    return max(leap_year, key=lambda day: len(format_date(day, language)))


def longest(labels: dict[str, str]) -> str:
    return max(labels.values(), key=len)


def longest_values(language: Language) -> dict[str, Value]:
    """The longest value each template variable can take."""
    day = longest_date(language)
    return {
        "tracking_no": "20261231-999999",
        "into_tracking_no": "20261231-999998",
        "access_code": "ZZZZZZ",
        "promised_date": day,
        "deadline": day,
        # As long as the catalogue allows, in its widest characters.
        "department": Bilingual("県" * DEPARTMENT_NAME_MAX, "W" * DEPARTMENT_NAME_EN_MAX),
        "kind": longest(KIND_LABELS),
        "scope": longest(SCOPE_LABELS),
        "priority": longest(PRIORITY_LABELS),
        "order_role": longest(ORDER_ROLE_LABELS),
        "missing": LONGEST_FREE_TEXT,
        "reason": LONGEST_FREE_TEXT,
        "answer": LONGEST_FREE_TEXT,
        "state": longest_state(language),
        # A digest merges at most one release's messages, each about a case of its own.
        "count": str(RELEASE_BATCH),
        "cases": case_list(["20261231-999999"] * RELEASE_BATCH, DIGEST_NAMES, language),
    }


def longest_state(language: Language) -> str:
    """The longest answer to "JD": every status, with the longest department and date."""
    statuses = ("received", "dispatched", "handling", "awaiting_citizen", "resolved", "rated")
    statuses += ("closed", "answered", "merged", "unknown")
    department = "県" * DEPARTMENT_NAME_MAX if language == "zh" else "W" * DEPARTMENT_NAME_EN_MAX
    return max(
        (
            state_phrase(
                Progress(s, department, longest_date(language), "20261231-999999"), language
            )
            for s in statuses
        ),
        key=len,
    )


def test_dates_read_as_the_language_writes_them_without_leading_zeros() -> None:
    assert format_date(date(2026, 12, 31)) == "12月31日"
    assert format_date(date(2026, 1, 5)) == "1月5日"
    assert format_date(date(2026, 1, 5), "en") == "5 Jan"
    assert format_date(longest_date("zh")) == "10月10日"


def test_a_major_matter_without_a_lead_yet_still_fits() -> None:
    assert len(NO_LEAD_YET) <= DEPARTMENT_NAME_MAX


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_filled_with_longest_values_fits_its_segment_budget(
    name: str, language: Language
) -> None:
    template = TEMPLATES[name]
    known = longest_values(language)
    text = template.en if language == "en" and template.en is not None else template.zh
    unknown = variables(text) - known.keys()
    assert not unknown, f"no longest value known for {sorted(unknown)}: add it to this test"

    # Staff read Chinese, signed with the Chinese signature.
    signature = LONGEST_SIGNATURE["en" if text == template.en else "zh"]
    message = render(name, signature, language, **{v: known[v] for v in variables(text)})

    assert message.segments <= template.max_segments, message.text


def test_step_notices_take_one_part_and_only_free_text_may_take_more() -> None:
    # An answer to the citizen's "JD" and the day's digest are not step notices: each sums up
    # several things (a status with its department and date, three cases) and may take two.
    summaries = {policy.STATUS_REPLY, policy.DIGEST}
    for template in TEMPLATES.values():
        if template.name in summaries:
            assert template.max_segments == 2, template.name
            continue
        assert template.max_segments == 1 or template.free_text is not None, template.name


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_rendered_text_is_signature_then_the_template_filled_in(name: str) -> None:
    template = TEMPLATES[name]
    values: dict[str, Value] = {v: f"<{v}>" for v in variables(template.zh)}

    message = render(name, LONG_SIGNATURE, **values)

    assert message.template == name
    assert message.text == LONG_SIGNATURE + template.zh.format(**values)
    assert message.segments == segments(message.text)


def test_staff_messages_stay_chinese_whatever_language_is_asked() -> None:
    staff = [t for t in TEMPLATES.values() if t.en is None and t.name in policy.STAFF_TEMPLATES]
    assert {t.name for t in staff} == {
        "work_order_arrived",
        "work_order_due_soon",
        "work_order_overdue",
        "major_alert",
    }
    # Every message to a citizen has its English, the answers to their own SMS and the digest
    # too, so the budget test above measures it.
    chinese_only = {t.name for t in TEMPLATES.values() if t.en is None} - policy.STAFF_TEMPLATES
    assert chinese_only == set()
    message = render(
        "work_order_due_soon",
        LONG_SIGNATURE,
        "en",
        department="县水利局",
        tracking_no="x",
        deadline=date(2026, 12, 16),
    )
    assert message.text == "【宁海12345】县水利局工单x将于12月16日到期，请抓紧办结。"


def test_a_digest_names_three_cases_then_how_many_more_in_each_language() -> None:
    cases = [f"20261201-00000{n}" for n in range(1, 6)]

    assert case_list(cases, 3) == "20261201-000001、20261201-000002、20261201-000003等5件"
    assert case_list(cases[:3], 3) == "20261201-000001、20261201-000002、20261201-000003"
    assert case_list(cases, 3, "en") == (
        "20261201-000001, 20261201-000002, 20261201-000003 and 2 more"
    )
    assert case_list(cases[:3], 3, "en") == ("20261201-000001, 20261201-000002 and 20261201-000003")
    assert case_list(cases[:2], 3, "en") == "20261201-000001 and 20261201-000002"
    assert case_list(cases[:1], 3, "en") == "20261201-000001"


def test_answer_to_jd_reads_in_english_with_an_english_date() -> None:
    progress = Progress("dispatched", "County Education Bureau", date(2026, 12, 16))

    message = render(
        policy.STATUS_REPLY,
        "[Minqing 12345]",
        "en",
        tracking_no="20261127-000001",
        state=state_phrase(progress, "en"),
    )

    assert message.text == (
        "[Minqing 12345]Case 20261127-000001 is now with County Education Bureau, "
        "who will answer by 16 Dec."
    )
    assert message.segments == 1
    chinese = Progress("dispatched", "县教育局", date(2026, 12, 16))
    assert state_phrase(chinese) == "已交县教育局办理，将于12月16日前答复"


@pytest.mark.parametrize("status", ["dispatched", "handling", "resolved"])
def test_answer_to_jd_without_the_departments_english_name_names_none(status: str) -> None:
    phrase = state_phrase(Progress(status, None, date(2026, 12, 16)), "en")

    assert "the department in charge" in phrase
    assert phrase.isascii()


def test_digest_reads_in_english_for_an_english_reader() -> None:
    message = render(
        policy.DIGEST,
        "[Minqing 12345]",
        "en",
        count="4",
        cases=case_list(["20261201-000001", "20261201-000002"], 3, "en"),
    )

    assert message.text == (
        "[Minqing 12345]Yesterday 4 more notices were not sent one by one. They concern "
        "20261201-000001 and 20261201-000002; see their progress with the case number and "
        "access code."
    )


def test_dispatched_notice_reads_exactly_as_the_citizen_receives_it() -> None:
    message = render(
        "case_dispatched",
        LONG_SIGNATURE,
        tracking_no="20261127-000001",
        department="县住房和城乡建设局",
        deadline=date(2026, 12, 16),
    )

    assert message.text == (
        "【宁海12345】您的诉求20261127-000001已交县住房和城乡建设局办理，将于12月16日前答复。"
    )
    assert message.segments == 1


def test_english_notice_names_the_department_in_english_and_stays_gsm7() -> None:
    message = render(
        "case_dispatched",
        "[Minqing 12345]",
        "en",
        tracking_no="20261127-000001",
        department=Bilingual("县水利局", "County Water Resources Bureau"),
        deadline=date(2026, 12, 16),
    )

    assert message.text == (
        "[Minqing 12345]Case 20261127-000001 is now with County Water Resources Bureau, "
        "who will answer by 16 Dec."
    )
    assert message.segments == 1


def test_everything_missing_is_listed_in_one_message_when_it_fits() -> None:
    missing = "身份证复印件、房产证复印件、现场照片三张"

    message = render(
        "case_material_requested", LONG_SIGNATURE, tracking_no="20261127-000001", missing=missing
    )

    assert missing in message.text
    assert "详见查询页面" not in message.text
    assert message.segments == 2


def test_free_text_too_long_for_the_budget_is_cut_and_points_to_the_case_page() -> None:
    reason = "需要等待省级部门出具鉴定意见，" * 20

    message = render(
        "case_extended",
        LONG_SIGNATURE,
        tracking_no="20261127-000001",
        deadline=date(2026, 12, 30),
        reason=reason,
    )

    assert message.segments == 2
    assert message.text.endswith("…（详见查询页面）。")
    assert "12月30日" in message.text
    # As much of the reason as the budget leaves room for: one character more would not fit.
    kept = message.text.split("原因：")[1].removesuffix("…（详见查询页面）。")
    assert reason.startswith(kept)
    longer = message.text.replace(kept, reason[: len(kept) + 1])
    assert segments(longer) > 2


def test_line_breaks_in_free_text_become_spaces() -> None:
    message = render(
        "case_answered", LONG_SIGNATURE, tracking_no="1", answer="第一，可以。\n\n第二，  可以。"
    )

    assert message.text.endswith("第一，可以。 第二， 可以。")


def test_received_notice_carries_tracking_number_access_code_and_promised_date() -> None:
    message = render(
        "case_received",
        LONG_SIGNATURE,
        tracking_no="20261127-000001",
        access_code="7K3MPX",
        promised_date=date(2026, 12, 2),
    )

    assert message.text.startswith(LONG_SIGNATURE)
    for shown in ("20261127-000001", "7K3MPX", "12月2日"):
        assert shown in message.text
    assert "{" not in message.text


def test_resolved_notice_tells_how_to_rate_by_reply() -> None:
    for language in LANGUAGES:
        message = render("case_resolved", LONG_SIGNATURE, language, tracking_no="1")
        for choice in ("1", "2", "3"):
            assert choice in message.text.removeprefix(LONG_SIGNATURE + "")
