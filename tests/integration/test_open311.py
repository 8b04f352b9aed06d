"""Open311 GeoReport v2 against real `minqing serve` processes, over HTTP, as clients use it.

Intake, routing and notify run as their own processes on a RabbitMQ vhost and PostgreSQL
databases of this module; the tests talk to intake with httpx and with `georeport`, an Open311
client library from PyPI. Cases that need a past the API cannot make (100 days old, resolved, a
tip-off, a thousand of them) are written straight into intake's database.
"""

from __future__ import annotations

import json
import subprocess
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient
from georeport import GeoReport
from sqlalchemy import Table, delete, insert

from services import intake
from services.intake.channels.open311_clients import REVOCATION_DELAY, manage
from services.intake.channels.open311_mapping import service_code
from services.intake.domain import STATUS_LABELS
from services.intake.handlers import catalogue_categories
from services.intake.models import Case, TimelineEntry
from services.kernel.clock import utcnow
from services.kernel.config import load_settings
from services.kernel.db import Database
from services.kernel.events.contracts import CatalogueDepartment, CataloguePublished
from services.kernel.migrations import upgrade
from services.kernel.processes import build_app
from services.kernel.runtime import ServiceRuntime
from tests.support import (
    MINQING,
    REPO,
    base_env,
    postgres_databases,
    rabbitmq_vhost,
    read_sms,
    running_services,
    wait_until,
)

pytestmark = pytest.mark.integration

JURISDICTION = "yuexi.example.gov.cn"
EDUCATION = service_code("教育文体")
ENVIRONMENT = service_code("环境保护")


@dataclass
class Open311:
    root: str  # .../open311/v2
    key: str
    env: dict[str, str]
    database: Database
    sms_outbox: Path

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.root}/{path}", params=params, timeout=30)

    def post(self, path: str, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(f"{self.root}/{path}", data=data, headers=headers, timeout=30)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*MINQING, "open311", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(scope="module")
def open311(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Open311]:
    tmp_path = tmp_path_factory.mktemp("open311")
    with (
        postgres_databases() as postgres_url,
        rabbitmq_vhost() as amqp_url,
        running_services(["intake", "routing", "notify"], postgres_url, amqp_url, tmp_path) as c,
    ):
        env = base_env(
            MINQING_BROKER_URL=amqp_url,
            MINQING_DATABASE_URL=postgres_url,
            MINQING_DATA_DIR=str(tmp_path / "data"),
        )
        # The processes run with the default jurisdiction; this module's own checks use theirs.
        settings = load_settings(env)
        database = Database(settings.database_url("intake"), pool_size=2)
        server = Open311(
            f"{c.url('intake')}/open311/v2", "", env, database, tmp_path / "sms-outbox.jsonl"
        )
        added = server.cli("add-client", "county-app")
        assert added.returncode == 0, added.stderr
        server.key = added.stdout.strip()
        # Routing publishes its catalogue at start; intake keeps it.
        wait_until(lambda: len(server.get("services.json").json()) > 1, 30)
        try:
            yield server
        finally:
            database.dispose()


def form(server: Open311, **fields: str) -> dict[str, str]:
    """A valid submission, as the spec's own example sends one, changed by `fields`."""
    values = {
        "api_key": server.key,
        "service_code": EDUCATION,
        "attribute[kind]": "complaint",
        "lat": "29.30512",
        "long": "120.07684",
        "address_string": "越溪乡王家村小学门口",
        "email": "wang.fang@example.com",
        "device_id": "tt222111",
        "account_id": "123456",
        "first_name": "芳",
        "last_name": "王",
        "phone": "13812345678",
        "description": "学校门口的校车每天超载，孩子们很危险",
        "media_url": "http://img.example.com/2212426634_5ed477a060.jpg",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def errors(response: httpx.Response, status: int) -> list[tuple[int, str]]:
    """The spec's error body, from either format, after checking the status."""
    assert response.status_code == status, response.text
    if response.headers["content-type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        return [(int(e.findtext("code") or 0), e.findtext("description") or "") for e in root]
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return [(e["code"], e["description"]) for e in response.json()]


def submitted(server: Open311, **fields: str) -> str:
    response = server.post("requests.json", form(server, **fields))
    assert response.status_code == 200, response.text
    (answer,) = response.json()
    return str(answer["service_request_id"])


def insert_cases(server: Open311, cases: Sequence[dict[str, Any]]) -> None:
    """Cases written straight into intake's database, each with its timeline."""
    rows, timeline = [], []
    for case in cases:
        case_id = uuid.uuid4()
        submitted_at = case.get("submitted_at", utcnow())
        rows.append(
            {
                "id": case_id,
                "tracking_no": case["tracking_no"],
                "access_code_hash": "x" * 64,
                "channel": case.get("channel", "open311"),
                "kind": case.get("kind", "complaint"),
                "category": case.get("category"),
                "description": case.get("description", "路灯坏了"),
                "address": case.get("address"),
                "contact_name": case.get("contact_name", "李四"),
                "contact_phone": case.get("contact_phone", "13912345678"),
                "sealed_contact": case.get("sealed_contact"),
                "status": case.get("status", "received"),
                "department_name": case.get("department_name"),
                "promised_date": case.get("promised_date", date(2026, 12, 18)),
                "submitted_at": submitted_at,
                "updated_at": case.get("updated_at", submitted_at),
            }
        )
        for status, note in case.get("timeline", [("received", None)]):
            timeline.append(
                {"case_id": case_id, "occurred_at": submitted_at, "status": status, "note": note}
            )
    with server.database.unit_of_work() as uow:
        uow.session.execute(insert(cast(Table, Case.__table__)), rows)
        uow.session.execute(insert(cast(Table, TimelineEntry.__table__)), timeline)


def remove_cases(server: Open311, prefix: str) -> None:
    with server.database.unit_of_work() as uow:
        ids = [c.id for c in uow.session.query(Case).filter(Case.tracking_no.like(f"{prefix}%"))]
        uow.session.execute(delete(TimelineEntry).where(TimelineEntry.case_id.in_(ids)))
        uow.session.execute(delete(Case).where(Case.id.in_(ids)))


def ids_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in response.json()]


# --- discovery and services -----------------------------------------------------------------------


def test_discovery_names_this_endpoint_in_both_formats(open311: Open311) -> None:
    document = open311.get("discovery.json").json()
    (endpoint,) = document["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == open311.root
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert {"changeset", "contact", "key_service"} <= set(document)
    xml = open311.get("discovery.xml")
    assert xml.headers["content-type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(xml.content)
    assert root.findtext("endpoints/endpoint/url") == open311.root
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_are_the_catalogues_categories_in_both_formats(open311: Open311) -> None:
    services = open311.get("services.json").json()
    by_name = {s["service_name"]: s for s in services}
    education = by_name["教育文体"]
    assert education["service_code"] == EDUCATION
    assert education["group"] == "县教育局"
    assert (education["metadata"], education["type"]) == (True, "realtime")
    assert "教育" in education["keywords"]
    assert services[-1]["service_code"] == "other"
    root = ET.fromstring(open311.get("services.xml").content)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == [
        s["service_code"] for s in services
    ]
    assert root.findtext("service/metadata") == "true"


def test_a_definition_asks_for_the_kind_and_an_unknown_service_is_404(open311: Open311) -> None:
    definition = open311.get(f"services/{EDUCATION}.json").json()
    assert definition["service_code"] == EDUCATION
    kind = definition["attributes"][0]
    assert (kind["code"], kind["datatype"], kind["required"]) == ("kind", "singlevaluelist", True)
    assert "tip-off" not in [v["key"] for v in kind["values"]]
    root = ET.fromstring(open311.get(f"services/{EDUCATION}.xml").content)
    assert root.tag == "service_definition"
    assert [a.findtext("code") for a in root.findall("attributes/attribute")] == [
        "kind",
        "scope_level",
        "notice",
    ]
    for fmt in ("json", "xml"):
        ((code, description),) = errors(open311.get(f"services/nope.{fmt}"), 404)
        assert code == 404
        assert "nope" in description


# --- submitting -----------------------------------------------------------------------------------


def test_a_posted_request_becomes_a_routed_case_and_the_citizen_gets_the_sms(
    open311: Open311,
) -> None:
    response = open311.post("requests.xml", form(open311, jurisdiction_id="minqing"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    tracking_no = root.findtext("request/service_request_id")
    assert tracking_no
    assert "已受理" in (root.findtext("request/service_notice") or "")
    assert root.findtext("request/account_id") == "123456"

    receipt = wait_until(
        lambda: [
            m
            for m in read_sms(open311.sms_outbox)
            if m["tracking_no"] == tracking_no and m["template"] == "case_received"
        ],
        20,
    )
    assert receipt[0]["to"] == "13812345678"

    def dispatched() -> dict[str, Any] | None:
        (request,) = open311.get(f"requests/{tracking_no}.json").json()
        return request if request["agency_responsible"] else None

    request = wait_until(dispatched, 20)
    assert request["status"] == "open"
    assert request["status_notes"] == "已派单：县教育局"
    assert request["service_code"] == EDUCATION
    assert request["media_url"] == "http://img.example.com/2212426634_5ed477a060.jpg"
    assert (request["lat"], request["long"]) == (29.30512, 120.07684)
    assert request["expected_datetime"].endswith("T23:59:59+08:00")
    assert request["requested_datetime"].endswith("+08:00")
    raw = open311.get(f"requests/{tracking_no}.xml").text + json.dumps(request, ensure_ascii=False)
    for personal in ("13812345678", "wang.fang@example.com", "王芳", "芳"):
        assert personal not in raw


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_missing_or_wrong_api_key_is_403(open311: Open311, fmt: str) -> None:
    for key in (None, "mq311_not-a-key"):
        response = open311.post(f"requests.{fmt}", form(open311, api_key=cast(str, key)))
        ((code, description),) = errors(response, 403)
        assert code == 403
        assert "api_key" in description


def test_a_revoked_client_is_refused(open311: Open311) -> None:
    added = open311.cli("add-client", "old-app")
    key = added.stdout.strip()
    assert open311.post("requests.json", form(open311, api_key=key)).status_code == 200
    revoked = open311.cli("revoke-client", "old-app")
    assert revoked.returncode == 0, revoked.stderr
    # Intake keeps an accepted key in memory for a few seconds. A form the key alone would let
    # through (400 for the missing fields) tells when the key is refused, and makes no case.
    wait_until(
        lambda: open311.post("requests.json", {"api_key": key}).status_code == 403,
        timeout=REVOCATION_DELAY + 5,
        interval=0.2,
    )
    errors(open311.post("requests.json", form(open311, api_key=key)), 403)
    assert open311.cli("revoke-client", "no-such-app").returncode == 1


def test_missing_fields_are_a_400_naming_each_in_the_spec_format(open311: Open311) -> None:
    response = open311.post(
        "requests.xml",
        {"api_key": open311.key, "description": "x"},
        headers={"Accept-Language": "en"},
    )
    problems = errors(response, 400)
    assert {code for code, _ in problems} == {400}
    assert [d.split(":")[0] for _, d in problems] == [
        "service_code",
        "attribute[kind]",
        "lat/long",
        "phone/email",
    ]


def test_an_unknown_service_code_is_404_and_a_missing_one_400(open311: Open311) -> None:
    errors(open311.post("requests.json", form(open311, service_code="ffffffff")), 404)
    problems = errors(open311.post("requests.json", form(open311, service_code="")), 400)
    assert problems[0][1].startswith("service_code")


def test_other_jurisdictions_are_404_and_this_one_is_served(open311: Open311) -> None:
    errors(open311.get("services.json", jurisdiction_id=JURISDICTION), 404)
    errors(open311.get("requests.xml", jurisdiction_id=JURISDICTION), 404)
    errors(open311.post("requests.json", form(open311, jurisdiction_id=JURISDICTION)), 404)
    assert open311.get("services.json", jurisdiction_id="minqing").status_code == 200


def test_tip_offs_are_refused_and_never_listed(open311: Open311) -> None:
    ((_, description),) = errors(
        open311.post("requests.json", form(open311, **{"attribute[kind]": "tip-off"})), 400
    )
    assert "举报" in description
    insert_cases(
        open311,
        [{"tracking_no": "TIP-000001", "kind": "tip-off", "sealed_contact": "sealed"}],
    )
    errors(open311.get("requests/TIP-000001.json"), 404)
    assert "TIP-000001" not in ids_of(open311.get("requests.json"))
    assert ids_of(open311.get("requests.json", service_request_id="TIP-000001")) == []


def test_a_retried_request_with_an_idempotency_key_is_one_case(open311: Open311) -> None:
    headers = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = open311.post("requests.json", form(open311, description="重复提交测试"), headers)
    again = open311.post("requests.json", form(open311, description="重复提交测试"), headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    different = open311.post("requests.json", form(open311, description="另一件事"), headers)
    ((_, description),) = errors(different, 400)
    assert description.startswith("Idempotency-Key")


# --- reading requests -----------------------------------------------------------------------------


def test_lists_filter_by_id_service_status_and_dates(open311: Open311) -> None:
    now = utcnow()
    insert_cases(
        open311,
        [
            {"tracking_no": "FLT-000001", "category": "教育文体", "submitted_at": now},
            {
                "tracking_no": "FLT-000002",
                "category": "环境保护",
                "status": "resolved",
                "submitted_at": now - timedelta(days=2),
                "timeline": [("received", None), ("resolved", "已整改")],
            },
            {"tracking_no": "FLT-000003", "submitted_at": now - timedelta(days=5)},
        ],
    )
    both = open311.get("requests.json", service_request_id="FLT-000003,FLT-000001,NOPE")
    assert ids_of(both) == ["FLT-000001", "FLT-000003"]
    in_ids = {"service_request_id": "FLT-000001,FLT-000002,FLT-000003"}
    # service_request_id overrides every other argument.
    assert len(ids_of(open311.get("requests.json", **in_ids, status="closed"))) == 3
    recent = ids_of(open311.get("requests.json", start_date=(now - timedelta(days=6)).isoformat()))
    assert {"FLT-000001", "FLT-000002", "FLT-000003"} <= set(recent)
    closed = open311.get("requests.json", status="closed").json()
    resolved = next(r for r in closed if r["service_request_id"] == "FLT-000002")
    assert resolved["status"] == "closed"
    assert resolved["status_notes"] == f"{STATUS_LABELS.get('resolved', 'resolved')}：已整改"
    assert all(r["status"] == "closed" for r in closed)
    assert "FLT-000001" not in [r["service_request_id"] for r in closed]
    by_service = ids_of(open311.get("requests.json", service_code=f"{ENVIRONMENT},other"))
    assert {"FLT-000002", "FLT-000003"} <= set(by_service)
    assert "FLT-000001" not in by_service
    window = ids_of(
        open311.get(
            "requests.json",
            start_date=(now - timedelta(days=3)).isoformat(),
            end_date=(now - timedelta(days=1)).isoformat(),
        )
    )
    assert "FLT-000002" in window
    assert "FLT-000001" not in window
    assert "FLT-000003" not in window


def test_the_default_window_is_90_days_and_a_longer_one_is_refused(open311: Open311) -> None:
    now = utcnow()
    insert_cases(
        open311,
        [
            {"tracking_no": "WIN-000001", "submitted_at": now - timedelta(days=100)},
            {"tracking_no": "WIN-000002", "submitted_at": now - timedelta(days=80)},
        ],
    )
    default = ids_of(open311.get("requests.json"))
    assert "WIN-000002" in default
    assert "WIN-000001" not in default
    older = open311.get("requests.json", start_date=(now - timedelta(days=120)).isoformat())
    assert "WIN-000001" in ids_of(older)
    too_long = open311.get(
        "requests.json",
        start_date=(now - timedelta(days=120)).isoformat(),
        end_date=now.isoformat(),
    )
    ((_, description),) = errors(too_long, 400)
    assert "90" in description


def test_at_most_1000_requests_and_pages_of_them(open311: Open311) -> None:
    start = utcnow() - timedelta(days=300)
    insert_cases(
        open311,
        [
            {"tracking_no": f"BULK-{i:06d}", "submitted_at": start + timedelta(minutes=i)}
            for i in range(1005)
        ],
    )
    window = {
        "start_date": (start - timedelta(seconds=1)).isoformat(),
        "end_date": (start + timedelta(days=1)).isoformat(),
    }
    try:
        first = ids_of(open311.get("requests.json", **window))
        assert len(first) == 1000
        assert first[0] == "BULK-001004"  # newest first
        assert ids_of(open311.get("requests.json", **window, page="2")) == [
            f"BULK-{i:06d}" for i in (4, 3, 2, 1, 0)
        ]
        page = ids_of(open311.get("requests.json", **window, page="3", page_size="10"))
        assert page == [f"BULK-{i:06d}" for i in range(984, 974, -1)]
        xml = ET.fromstring(open311.get("requests.xml", **window).content)
        assert len(xml.findall("request")) == 1000
        errors(open311.get("requests.json", **window, page_size="1001"), 400)
    finally:
        remove_cases(open311, "BULK-")


def test_updated_after_and_before_select_by_the_time_of_the_last_change(open311: Open311) -> None:
    now = utcnow()
    insert_cases(
        open311,
        [
            {
                "tracking_no": "UPD-000001",
                "submitted_at": now - timedelta(days=200),
                "updated_at": now - timedelta(hours=1),
                "status": "resolved",
            },
            {
                "tracking_no": "UPD-000002",
                "submitted_at": now - timedelta(days=200),
                "updated_at": now - timedelta(days=10),
            },
        ],
    )
    after = ids_of(
        open311.get("requests.json", updated_after=(now - timedelta(days=1)).isoformat())
    )
    assert "UPD-000001" in after  # changed lately, though submitted long ago
    assert "UPD-000002" not in after
    before = ids_of(
        open311.get(
            "requests.json",
            updated_after=(now - timedelta(days=11)).isoformat(),
            updated_before=(now - timedelta(days=9)).isoformat(),
        )
    )
    assert before == ["UPD-000002"]


def test_cases_from_other_channels_are_not_public(open311: Open311) -> None:
    insert_cases(
        open311,
        [
            {"tracking_no": "PUB-000001"},
            {"tracking_no": "PRV-000001", "channel": "web"},
            {"tracking_no": "PRV-000002", "channel": "hotline"},
        ],
    )
    listed = open311.get("requests.json", service_request_id="PUB-000001,PRV-000001,PRV-000002")
    assert ids_of(listed) == ["PUB-000001"]
    assert open311.get("requests/PRV-000001.json").status_code == 404


def test_extensions_add_the_notes_history(open311: Open311) -> None:
    insert_cases(
        open311,
        [
            {
                "tracking_no": "EXT-000001",
                "status": "dispatched",
                "department_name": "县教育局",
                "timeline": [
                    ("received", None),
                    ("dispatched", "县教育局"),
                    ("supplemented", "补充：我的电话13912345678"),
                ],
            }
        ],
    )
    plain = open311.get("requests/EXT-000001.json").json()[0]
    assert "notes" not in plain
    listed = open311.get("requests.json", service_request_id="EXT-000001", extensions="true")
    request = listed.json()[0]
    assert [n["type"] for n in request["notes"]] == ["received", "dispatched", "supplemented"]
    assert request["notes"][1]["description"] == "县教育局"
    assert "13912345678" not in listed.text
    assert request["extended_attributes"] == {"channel": "open311", "kind": "complaint"}
    root = ET.fromstring(open311.get("requests/EXT-000001.xml", extensions="true").content)
    assert [n.findtext("type") for n in root.findall("request/notes/note")] == [
        "received",
        "dispatched",
        "supplemented",
    ]


def test_xml_stays_well_formed_whatever_the_text(open311: Open311) -> None:
    nasty = '<b>路灯</b> & "坏了" ]]> \x07\x0b 结束'
    insert_cases(
        open311, [{"tracking_no": "XML-000001", "description": nasty, "address": "A&B <路>"}]
    )
    root = ET.fromstring(open311.get("requests/XML-000001.xml").content)
    assert root.findtext("request/description") == '<b>路灯</b> & "坏了" ]]>  结束'
    assert root.findtext("request/address") == "A&B <路>"
    assert open311.get("requests/XML-000001.json").json()[0]["description"] == nasty


def test_no_personal_data_is_ever_listed(open311: Open311) -> None:
    insert_cases(
        open311,
        [{"tracking_no": "PII-000001", "contact_name": "赵六", "contact_phone": "13700001111"}],
    )
    for fmt in ("json", "xml"):
        text = open311.get(f"requests.{fmt}", extensions="true").text
        assert "PII-000001" in text
        assert "赵六" not in text
        assert "13700001111" not in text
        assert "access_code" not in text


def test_unknown_resources_and_formats_are_404_in_the_spec_format(open311: Open311) -> None:
    errors(open311.get("nothing-here.xml"), 404)
    errors(open311.get("services.yaml"), 404)
    errors(open311.get("tokens/12345.json"), 404)
    errors(open311.get("requests/20000101-000001.xml"), 404)


# --- a real Open311 client ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_library_reads_everything(open311: Open311, fmt: str) -> None:
    tracking_no = submitted(open311, description="georeport 客户端读取测试")
    client = GeoReport(open311.root, jurisdiction="minqing", output_format=fmt)
    services = client.get_service_list()
    assert EDUCATION in [s["service_code"] for s in services]
    definition = client.get_service_definition(EDUCATION)
    attributes = definition["attributes"]
    if fmt == "xml":  # xmltodict keeps the container: attributes -> attribute -> [...]
        attributes = attributes["attribute"]
    assert attributes[0]["code"] == "kind"
    one = client.get_service_request(tracking_no)
    assert one["service_request_id"] == tracking_no
    assert one["status"] == "open"
    several = client.get_service_requests(service_request_id=tracking_no, status="open")
    several = [several] if isinstance(several, dict) else several
    assert [r["service_request_id"] for r in several] == [tracking_no]
    recent = client.get_service_requests(
        start_date=(datetime.now().astimezone() - timedelta(days=1)).isoformat()
    )
    assert tracking_no in [r["service_request_id"] for r in recent]


# --- the embedded database, and the rate limits ---------------------------------------------------


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """Intake alone on SQLite, as `minqing up` runs it, with a catalogue and a client's key."""
    settings = load_settings(
        {
            "MINQING_DATA_DIR": str(tmp_path),
            "MINQING_RATE_LIMIT_PER_IP": "2/minute",
            "MINQING_OPEN311_JURISDICTION": JURISDICTION,
        }
    )
    upgrade("intake", intake.SERVICE.migrations, settings.database_url("intake"))
    runtime = ServiceRuntime(intake.SERVICE, settings)
    with runtime.work() as work:
        work.session.add_all(
            catalogue_categories(
                CataloguePublished(
                    departments=(
                        CatalogueDepartment(
                            code="edu",
                            name="县教育局",
                            name_en="Education",
                            categories=("教育文体",),
                        ),
                    )
                ),
                utcnow(),
            )
        )
    key = manage(settings, "add-client", "embedded-app")
    assert key is not None
    yield TestClient(build_app([runtime])), key
    runtime.database.dispose()


def test_on_the_embedded_database_a_retried_post_is_one_case(
    embedded: tuple[TestClient, str],
) -> None:
    client, key = embedded
    # The first submission of a fresh database reserves tracking numbers while it authenticates
    # and checks the service: on SQLite that must not wait for a lock its own request holds.
    headers = {"Idempotency-Key": "first"}
    data = {"api_key": key, "service_code": EDUCATION, "attribute[kind]": "help"}
    data |= {"description": "路灯坏了", "address_string": "王家村", "email": "a@example.com"}
    first = client.post("/open311/v2/requests.json", data=data, headers=headers)
    again = client.post("/open311/v2/requests.json", data=data, headers=headers)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json()
    assert "短信" not in first.json()[0]["service_notice"]  # no phone, so no SMS promised


def test_the_rate_limit_answers_429_in_the_spec_format(embedded: tuple[TestClient, str]) -> None:
    client, key = embedded
    data = {"api_key": key, "service_code": "other", "attribute[kind]": "suggestion"}
    data |= {"description": "多种树", "address_string": "王家村", "phone": "13812345678"}
    statuses = [
        client.post("/open311/v2/requests.xml", data=data, headers={"Accept-Language": "en"})
        for _ in range(3)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    refused = statuses[-1]
    assert int(refused.headers["retry-after"]) > 0
    ((code, description),) = errors(refused, 429)
    assert code == 429
    assert "too many submissions" in description


def test_the_jurisdiction_comes_from_the_setting(embedded: tuple[TestClient, str]) -> None:
    client, _ = embedded
    assert client.get(
        "/open311/v2/services.json", params={"jurisdiction_id": JURISDICTION}
    ).is_success
    errors(client.get("/open311/v2/services.json", params={"jurisdiction_id": "minqing"}), 404)
