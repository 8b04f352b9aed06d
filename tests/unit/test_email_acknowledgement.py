"""The acknowledgement email's words, in the citizen's language."""

from __future__ import annotations

from services.notify.templates import render_email


def test_the_acknowledgement_answers_in_the_thread_with_what_the_citizen_needs() -> None:
    subject, text = render_email(
        "zh",
        "民情12345",
        subject="【咨询】低保怎么申请",
        tracking_no="20261127-000001",
        access_code="R7K2QX",
        promised_date="12月16日",
    )

    assert subject == "Re: 【咨询】低保怎么申请 [20261127-000001]"
    assert "受理编号：20261127-000001" in text
    assert "查询码：R7K2QX" in text
    assert "我们将于12月16日前答复" in text
    assert text.rstrip().endswith("（本邮件由系统自动发送）")


def test_mail_in_english_is_acknowledged_in_english_and_an_empty_subject_stays_tidy() -> None:
    subject, text = render_email(
        "en",
        "民情12345",
        subject="",
        tracking_no="20261127-000002",
        access_code="ABCDEF",
        promised_date="16 December 2026",
    )

    assert subject == "Re: [20261127-000002]"
    assert "Tracking number: 20261127-000002" in text
    assert "Access code: ABCDEF" in text
    assert "We will answer by 16 December 2026." in text
