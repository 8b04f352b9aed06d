"""The follow-up API over real HTTP: a `minqing serve intake` on PostgreSQL and RabbitMQ.

A citizen's app adds material with files and, once the department has resolved the case
(`case.resolved` on the bus), rates the result once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from services.intake.attachments import MAX_FILE_BYTES
from tests.support import (
    case_id_of,
    case_payload,
    postgres_databases,
    publish_envelopes,
    rabbitmq_vhost,
    resolved,
    running_services,
    wait_until,
)

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1024
PDF = b"%PDF-1.4\n" + b"0" * 2048


@dataclass(frozen=True)
class Served:
    url: str
    amqp_url: str
    database_url: str

    def rows(self, query: str, **params: Any) -> list[Any]:
        url = self.database_url.format(service="intake")
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(query), params))
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One intake process for the module: every test makes cases of its own."""
    tmp = tmp_path_factory.mktemp("follow-up")
    with (
        postgres_databases() as database_url,
        rabbitmq_vhost() as amqp_url,
        running_services(["intake"], database_url, amqp_url, tmp) as cluster,
    ):
        yield Served(cluster.url("intake"), amqp_url, database_url)


def new_case(served: Served) -> dict[str, Any]:
    response = httpx.post(f"{served.url}/api/v1/cases", json=case_payload(), timeout=10)
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def view(served: Served, receipt: dict[str, Any]) -> dict[str, Any]:
    response = httpx.get(
        f"{served.url}/api/v1/cases/{receipt['tracking_no']}",
        params={"access_code": receipt["access_code"]},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def supplement(
    served: Served,
    tracking_no: str,
    data: dict[str, str],
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    **headers: str,
) -> httpx.Response:
    return httpx.post(
        f"{served.url}/api/v1/cases/{tracking_no}/supplements",
        data=data,
        files=[("files", (name, content)) for name, content in files] or None,
        headers=headers,
        timeout=30,
    )


def rate(served: Served, tracking_no: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{served.url}/api/v1/cases/{tracking_no}/rating", json=body, headers=headers, timeout=10
    )


def resolve(served: Served, receipt: dict[str, Any], reply: str) -> None:
    case_id = case_id_of(served.database_url, receipt["tracking_no"])
    publish_envelopes(served.amqp_url, [resolved(case_id, receipt["tracking_no"], reply)])
    wait_until(lambda: view(served, receipt)["status"] == "resolved", timeout=15)


def events(served: Served, event_type: str, tracking_no: str) -> list[dict[str, Any]]:
    rows = served.rows(
        "SELECT body FROM outbox WHERE event_type = :type ORDER BY id", type=event_type
    )
    bodies = [json.loads(row.body) for row in rows]
    return [b["data"] for b in bodies if b["data"]["tracking_no"] == tracking_no]


def errors_of(response: httpx.Response, status: int = 422) -> dict[str, str]:
    assert response.status_code == status, response.text
    return {e["field"]: e["message"] for e in response.json()["detail"]}


def test_material_with_files_joins_the_case_its_timeline_and_the_bus(served: Served) -> None:
    receipt = new_case(served)
    response = supplement(
        served,
        receipt["tracking_no"],
        {"access_code": receipt["access_code"], "text": "补充两张现场照片和情况说明"},
        [("现场.png", PNG), ("说明.pdf", PDF)],
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "tracking_no": receipt["tracking_no"],
        "status": "received",
        "attachments": 2,
    }
    timeline = view(served, receipt)["timeline"]
    assert [t["status"] for t in timeline] == ["received", "supplemented"]
    assert timeline[-1]["note"] == "补充两张现场照片和情况说明"
    stored = served.rows(
        "SELECT a.filename, a.source, a.size FROM attachments a JOIN cases c ON c.id = a.case_id "
        "WHERE c.tracking_no = :no ORDER BY a.filename",
        no=receipt["tracking_no"],
    )
    assert [(r.filename, r.source, r.size) for r in stored] == [
        ("现场.png", "supplement", len(PNG)),
        ("说明.pdf", "supplement", len(PDF)),
    ]
    [announced] = events(served, "case.supplemented", receipt["tracking_no"])
    assert announced["attachments"] == 2
    assert announced["channel"] == "web"


def test_uploads_up_to_the_files_limit_pass_the_body_limit_and_more_gets_413(
    served: Served,
) -> None:
    receipt = new_case(served)
    big = b"\xff\xd8\xff" + b"\x00" * (MAX_FILE_BYTES - 3)
    files = [(f"photo-{i}.jpg", big) for i in range(3)]  # 15 MiB: far over the 1 MiB default
    ok = supplement(served, receipt["tracking_no"], {"access_code": receipt["access_code"]}, files)
    assert ok.status_code == 201, ok.text
    assert ok.json()["attachments"] == 3
    too_much = supplement(
        served,
        receipt["tracking_no"],
        {"access_code": receipt["access_code"]},
        [(f"photo-{i}.jpg", big) for i in range(5)],  # 25 MiB: over the route's allowance
    )
    assert too_much.status_code == 413
    assert too_much.json()["detail"][0]["field"] == "body"
    # Routes without files keep the default: a rating body over 1 MiB is refused.
    huge = rate(served, receipt["tracking_no"], {"access_code": "x", "comment": "长" * 600_000})
    assert huge.status_code == 413
    assert len(view(served, receipt)["timeline"]) == 2


def test_a_wrong_code_and_an_unknown_number_get_the_same_404(served: Served) -> None:
    receipt = new_case(served)
    answers = [
        supplement(served, receipt["tracking_no"], {"access_code": "ZZZZZZ", "text": "x"}),
        supplement(served, "20000101-000001", {"access_code": "ZZZZZZ", "text": "x"}),
    ]
    assert {a.status_code for a in answers} == {404}
    assert answers[0].json() == answers[1].json()
    rated = [
        rate(served, receipt["tracking_no"], {"access_code": "ZZZZZZ", "rating": "satisfied"}),
        rate(served, "20000101-000001", {"access_code": "ZZZZZZ", "rating": "satisfied"}),
    ]
    assert {r.status_code for r in rated} == {404}
    assert rated[0].json() == rated[1].json() == answers[0].json()


def test_field_errors_name_the_field_in_the_citizens_language(served: Served) -> None:
    receipt = new_case(served)
    number, code = receipt["tracking_no"], receipt["access_code"]
    assert errors_of(supplement(served, number, {"access_code": code})) == {
        "text": "请填写补充内容或上传文件"
    }
    english = errors_of(
        supplement(
            served,
            number,
            {"access_code": code, "text": "长" * 5001},
            [("virus.exe", b"MZ")],
            **{"Accept-Language": "en"},
        )
    )
    assert english["text"] == "at most 5000 characters"
    assert "virus.exe: files of this type are not accepted" in english["files"]
    assert errors_of(supplement(served, number, {"text": "x"})) == {"access_code": "必须填写"}
    bad_rating = errors_of(rate(served, number, {"access_code": code, "rating": "great"}))
    assert bad_rating["rating"].startswith("只能是以下之一：'satisfied'、")
    long_comment = rate(
        served, number, {"access_code": code, "rating": "satisfied", "comment": "长" * 501}
    )
    assert errors_of(long_comment) == {"comment": "最多 500 个字符"}
    assert [t["status"] for t in view(served, receipt)["timeline"]] == ["received"]


def test_a_case_is_rated_once_and_only_after_the_department_resolved_it(served: Served) -> None:
    receipt = new_case(served)
    number, code = receipt["tracking_no"], receipt["access_code"]
    early = rate(served, number, {"access_code": code, "rating": "satisfied"})
    assert errors_of(early, 409) == {"rating": "诉求办结后才能评价"}
    assert early.json()["detail"][0]["type"] == "not_resolved"

    resolve(served, receipt, "经核查，校车已由交通部门依法处理，今后每日上学时段安排专人检查。")
    resolved_view = view(served, receipt)
    assert resolved_view["status_label"] == "已办结"
    assert resolved_view["department"] == "县教育局"
    assert resolved_view["timeline"][-1]["note"].startswith("经核查，校车已由交通部门依法处理")

    comment = "处理及时，希望长期坚持"
    body = {"access_code": code, "rating": "basically-satisfied", "comment": comment}
    first = rate(served, number, body)
    assert first.status_code == 201, first.text
    assert first.json()["rating"] == "basically-satisfied"
    again = rate(served, number, {**body, "rating": "dissatisfied"}, **{"Accept-Language": "en"})
    assert errors_of(again, 409) == {"rating": "the case has already been rated"}
    assert again.json()["detail"][0]["type"] == "already_rated"

    [announced] = events(served, "case.rated", number)
    assert announced["rating"] == "basically-satisfied"
    assert announced["comment"] == "处理及时，希望长期坚持"
    assert announced["department_code"] == "edu"
    assert [t["status"] for t in view(served, receipt)["timeline"]][-2:] == ["resolved", "rated"]
    closed = supplement(served, number, {"access_code": code, "text": "还有一点"})
    assert closed.status_code == 409
    assert closed.json()["detail"][0]["type"] == "case_closed"


def test_a_long_reply_is_kept_whole(served: Served) -> None:
    receipt = new_case(served)
    reply = "答复" * 400
    resolve(served, receipt, reply)
    [kept] = served.rows(
        "SELECT r.reply FROM resolutions r JOIN cases c ON c.id = r.case_id "
        "WHERE c.tracking_no = :no",
        no=receipt["tracking_no"],
    )
    assert kept.reply == reply
    note = view(served, receipt)["timeline"][-1]["note"]
    assert len(note) == 500
    assert note.endswith("…")
