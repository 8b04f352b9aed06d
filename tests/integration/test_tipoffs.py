"""A tip-off's reporter stays sealed end to end, and only the tip-off officer may read who it is.

Four `minqing serve` processes on PostgreSQL and RabbitMQ, shared by the module's tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.intake.submissions import open_contact
from services.kernel.auth import Role, Staff, mint_token
from services.kernel.config import SERVICE_NAMES
from tests.integration.cross_channel import (
    EventTap,
    Stack,
    database_text,
    queue_bodies,
    rows,
    sms_to,
    stack,
    staff_headers,
    submit,
)
from tests.support import TEST_SECRET, case_payload, wait_until

pytestmark = pytest.mark.integration

NAME, PHONE, EMAIL = "欧阳明远", "13912345670", "mingyuan.ouyang@example.org"
# What a log line would show of the number had something logged it, masked or not.
MASKED_PHONE = "139****5670"
SECRETS = (NAME, PHONE, EMAIL, MASKED_PHONE, "mingyuan.ouyang", "o***@example.org")


def tip_off(description: str, phone: str = PHONE, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "kind": "tip-off",
        "contact": {"name": NAME, "phone": phone, "email": EMAIL},
        **extra,
    }


def leaks(text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with stack(SERVICE_NAMES, tmp_path_factory.mktemp("tipoffs")) as running:
        yield running


@pytest.fixture
def tap(services: Stack) -> Iterator[EventTap]:
    tap = EventTap(services.amqp_url)
    yield tap
    tap.close()


def test_a_tip_off_reaches_its_reporter_and_its_department_without_the_reporter_in_the_clear(
    services: Stack, tap: EventTap
) -> None:
    payload = tip_off(
        "举报：河边的造纸厂每天半夜偷偷往河里排污水，河水发黑发臭",
        category="城乡建设",
        location={"address": "越溪乡河头村", "lat": 29.31, "lon": 121.42},
    )
    receipt = submit(services, payload, **{"Idempotency-Key": "tip-off-1"})
    # A retry is answered from the idempotency record, which keeps no number either.
    assert submit(services, payload, **{"Idempotency-Key": "tip-off-1"}) == receipt
    tracking_no = receipt["tracking_no"]

    # The reporter gets the same receipt as anyone, then the dispatched notice.
    received, dispatched = sms_to(services, PHONE, 2)
    assert received["template"] == "case_received"
    assert tracking_no in received["text"]
    assert receipt["access_code"] in received["text"]
    assert dispatched["template"] == "case_dispatched"
    assert received["segments"] == dispatched["segments"] == 1

    def counted() -> bool:
        figures = httpx.get(f"{services.url('reporting')}/api/v1/reports/summary").json()
        return bool(figures["by_department"].get("housing"))

    wait_until(counted, 20)

    # On the bus: the reporter travels only sealed, in case.submitted, and opens to who it is.
    bodies = wait_until(lambda: len(tap.drain()) >= 4 and tap.bodies, 20)
    envelopes = [json.loads(body) for body in bodies]
    types = {e["type"] for e in envelopes}
    assert {"case.submitted", "case.assigned", "message.sent"} <= types
    assert [leaks(body) for body in bodies] == [[] for _ in bodies]
    [submitted] = [e["data"] for e in envelopes if e["type"] == "case.submitted"]
    assert submitted["contact"] == {"name": None, "phone": None, "email": None}
    reporter = open_contact(submitted["sealed_contact"], TEST_SECRET)
    assert (reporter.name, reporter.phone, reporter.email) == (NAME, PHONE, EMAIL)

    # The department's queue has the work order and nothing of the reporter.
    department = queue_bodies(services.amqp_url, "dept.housing")
    assert any(tracking_no.encode() in body for body in department)
    assert [leaks(body) for body in department] == [[] for _ in department]

    # No table of any service holds the reporter in the clear.
    for service in SERVICE_NAMES:
        dumped = database_text(services.database_url(service))
        assert tracking_no in dumped, service  # the search does see the case's rows
        assert leaks(dumped) == [], service
    [(phone, email, name, sealed, phone_fingerprint)] = rows(
        services.database_url("intake"),
        "SELECT contact_phone, contact_email, contact_name, sealed_contact, phone_fingerprint"
        f" FROM cases WHERE tracking_no = '{tracking_no}'",
    )
    assert (phone, email, name) == (None, None, None)
    assert sealed
    assert phone_fingerprint
    recipients = rows(
        services.database_url("notify"),
        f"SELECT recipient, sealed_recipient FROM messages WHERE tracking_no = '{tracking_no}'",
    )
    assert len(recipients) == 2
    assert all(r.startswith("sealed:") and s for r, s in recipients)

    # Nor the figures, the metrics or the logs of any process.
    summary = httpx.get(f"{services.url('reporting')}/api/v1/reports/summary").text
    assert leaks(summary) == []
    for service in SERVICE_NAMES:
        assert leaks(httpx.get(f"{services.url(service)}/metrics").text) == [], service
    for service, process in services.cluster.processes.items():
        logged = process.log_path.read_bytes()
        assert b"service started" in logged, service
        assert leaks(logged) == [], service


def test_the_reporter_tracks_the_tip_off_with_the_access_code_alone(services: Stack) -> None:
    receipt = submit(services, tip_off("举报有人在村口违规倾倒建筑垃圾"))
    url = f"{services.url('intake')}/api/v1/cases/{receipt['tracking_no']}"

    view = httpx.get(url, params={"access_code": receipt["access_code"]})
    assert view.status_code == 200
    assert view.json()["kind"] == "tip-off"
    assert leaks(view.text) == []
    assert "contact" not in view.json()
    assert httpx.get(url, params={"access_code": "WRONG2"}).status_code == 404


def test_a_reporter_may_stay_anonymous_and_still_track_the_tip_off(services: Stack) -> None:
    payload = tip_off("举报某加工厂夜间偷排污水")
    del payload["contact"]
    receipt = submit(services, payload)
    url = f"{services.url('intake')}/api/v1/cases/{receipt['tracking_no']}"

    view = httpx.get(url, params={"access_code": receipt["access_code"]})
    assert view.status_code == 200
    assert view.json()["kind"] == "tip-off"


def test_only_a_tip_off_officer_reads_the_reporter_and_each_reading_is_recorded(
    services: Stack,
) -> None:
    receipt = submit(services, tip_off("举报某饭店使用地沟油"))
    tracking_no = receipt["tracking_no"]
    url = f"{services.url('intake')}/api/v1/tipoffs/{tracking_no}/reporter"
    reason = {"reason": "核实举报内容，需回电举报人"}
    officer = staff_headers("tip-off-officer", staff_id="t-07", name="纪检专员")

    assert httpx.get(url, params=reason).status_code == 401
    who = Staff("t-07", "纪检专员", frozenset({"tip-off-officer"}))
    for token in (mint_token(who, TEST_SECRET, ttl=-1), mint_token(who, "k" * 48)):
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(url, params=reason, headers=headers).status_code == 401
    others: tuple[Role, ...] = ("dispatcher", "supervisor", "admin", "operator", "handler")
    for role in others:
        refused = httpx.get(url, params=reason, headers=staff_headers(role))
        assert refused.status_code == 403, role
        assert leaks(refused.text) == []

    missing = httpx.get(url, headers=officer)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["field"] == "query.reason"
    blank = httpx.get(url, params={"reason": "   "}, headers=officer)
    assert blank.status_code == 422
    assert blank.json()["detail"][0]["field"] == "reason"
    assert rows(services.database_url("intake"), "SELECT * FROM reporter_disclosures") == []

    read = httpx.get(url, params=reason, headers=officer)
    assert read.status_code == 200
    assert read.headers["cache-control"] == "no-store"
    body = read.json()
    assert (body["name"], body["phone"], body["email"]) == (NAME, PHONE, EMAIL)
    again = httpx.get(
        url,
        params={"reason": "移交公安机关"},
        headers=staff_headers("tip-off-officer", staff_id="t-09", name="监察员"),
    )
    assert again.status_code == 200

    disclosures = httpx.get(
        f"{services.url('intake')}/api/v1/tipoffs/{tracking_no}/disclosures", headers=officer
    ).json()
    assert [(d["staff_id"], d["staff_name"], d["reason"]) for d in disclosures] == [
        ("t-07", "纪检专员", "核实举报内容，需回电举报人"),
        ("t-09", "监察员", "移交公安机关"),
    ]
    assert all(d["disclosed_at"] for d in disclosures)
    assert (
        httpx.get(
            f"{services.url('intake')}/api/v1/tipoffs/{tracking_no}/disclosures",
            headers=staff_headers("dispatcher"),
        ).status_code
        == 403
    )

    # Only tip-offs have a sealed reporter; anything else is not found here.
    plain = submit(services, case_payload("小区门口的井盖丢了"))
    other = f"{services.url('intake')}/api/v1/tipoffs/{plain['tracking_no']}/reporter"
    assert httpx.get(other, params=reason, headers=officer).status_code == 404
    unknown = f"{services.url('intake')}/api/v1/tipoffs/20200101-999999/reporter"
    assert httpx.get(unknown, params=reason, headers=officer).status_code == 404

    # Reading the reporter leaves no trace of who it is in the log either.
    logged = services.cluster.processes["intake"].log_path.read_bytes()
    assert b"tip-off reporter disclosed" in logged
    assert leaks(logged) == []
