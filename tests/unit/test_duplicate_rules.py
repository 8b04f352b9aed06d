"""Which two cases are linked as possible duplicates, and why; contacts compared as fingerprints."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from services.intake.duplicates import Candidate, Facts, Match, judge, strongest
from services.intake.fingerprints import email_fingerprint, phone_fingerprint
from services.intake.similarity import Place

SECRET = "s" * 48
WANG = phone_fingerprint("13812345678", SECRET)
LI = phone_fingerprint("13900001111", SECRET)


def facts(description: str, **changes: object) -> Facts:
    base = Facts(
        description=description,
        sealed=False,
        phone_fingerprint=WANG,
        email_fingerprint=None,
        category=None,
        place=Place(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


LAMP = "小区路灯坏了一个星期，晚上很黑"
LAMP_AGAIN = "我们小区的路灯已经坏了一周了，晚上出门很黑，请尽快修理"
SCHOOL = "我家孩子转学手续办了两个月还没办好"


def test_the_same_phone_in_any_spelling_has_one_fingerprint() -> None:
    spellings = [
        "13812345678",
        "+86 138-1234-5678",
        "８６１３８１２３４５６７８",
        "0086 13812345678",
    ]
    assert {phone_fingerprint(s, SECRET) for s in spellings} == {WANG}
    assert WANG is not None
    assert "13812345678" not in WANG
    assert phone_fingerprint("13812345678", "t" * 48) != WANG
    assert phone_fingerprint(None, SECRET) is None
    assert phone_fingerprint("", SECRET) is None


def test_an_email_fingerprint_ignores_case_and_spaces() -> None:
    assert email_fingerprint(" Wang.Li@Example.com ", SECRET) == email_fingerprint(
        "wang.li@example.com", SECRET
    )
    assert email_fingerprint("wang.li@example.com", SECRET) != email_fingerprint(
        "wang.li@example.org", SECRET
    )
    assert email_fingerprint(None, SECRET) is None


def test_the_same_contact_with_similar_text_is_a_possible_duplicate() -> None:
    match = judge(facts(LAMP_AGAIN), facts(LAMP))
    assert match is not None
    assert match.reason == "same-contact"
    assert 0.3 <= match.score <= 1.0


def test_the_same_email_counts_as_the_same_contact() -> None:
    mail = email_fingerprint("wang@example.com", SECRET)
    match = judge(
        facts(LAMP_AGAIN, phone_fingerprint=None, email_fingerprint=mail),
        facts(LAMP, phone_fingerprint=LI, email_fingerprint=mail),
    )
    assert match is not None
    assert match.reason == "same-contact"


def test_the_same_contact_on_another_matter_is_not() -> None:
    assert judge(facts(SCHOOL), facts(LAMP)) is None


def test_another_contact_with_the_same_text_is_not_by_contact() -> None:
    assert judge(facts(LAMP, phone_fingerprint=LI), facts(LAMP)) is None


def test_two_tip_offs_from_one_reporter_are_matched_by_contact() -> None:
    match = judge(facts(LAMP_AGAIN, sealed=True), facts(LAMP, sealed=True))
    assert match is not None
    assert match.reason == "same-contact"


def test_a_tip_off_and_an_open_case_are_never_linked_by_contact() -> None:
    assert judge(facts(LAMP_AGAIN, sealed=True), facts(LAMP)) is None
    assert judge(facts(LAMP_AGAIN), facts(LAMP, sealed=True)) is None


def test_same_category_near_the_same_place_is_a_possible_duplicate_whoever_wrote() -> None:
    here = Place(address="越溪乡王家村", lat=29.3, lon=121.4)
    nearby = Place(lat=29.3010, lon=121.4005)
    match = judge(
        facts(LAMP, category="城乡建设", place=here, phone_fingerprint=LI, sealed=True),
        facts(SCHOOL, category="城乡建设", place=nearby),
    )
    assert match == Match("same-place", 0.0)


def test_another_category_or_a_place_further_away_is_not() -> None:
    here = Place(lat=29.3, lon=121.4)
    far = Place(lat=29.305, lon=121.4)
    other = facts(SCHOOL, category="城乡建设", place=here, phone_fingerprint=LI)
    assert judge(facts(LAMP, category="教育文体", place=here), other) is None
    assert judge(facts(LAMP, category="城乡建设", place=far), other) is None
    assert judge(facts(LAMP, category=None, place=here), replace(other, category=None)) is None


def test_a_case_is_linked_only_to_its_strongest_few_matches() -> None:
    def found(tracking_no: str, day: int, reason: str, score: float) -> tuple[Candidate, Match]:
        at = datetime(2026, 12, day, tzinfo=UTC)
        candidate = Candidate(uuid.uuid4(), tracking_no, at, "received", facts(LAMP))
        return candidate, Match(reason, score)  # type: ignore[arg-type]

    ranked = strongest(
        [
            found("place-best", 1, "same-place", 0.9),
            found("contact-later", 3, "same-contact", 0.8),
            found("contact-earlier", 2, "same-contact", 0.8),
            found("contact-best", 4, "same-contact", 0.95),
            found("place-worst", 1, "same-place", 0.1),
        ],
        limit=3,
    )
    assert [c.tracking_no for c, _ in ranked] == [
        "contact-best",
        "contact-earlier",
        "contact-later",
    ]
