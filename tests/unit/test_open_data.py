"""Open data's rules: what a published service request holds, and how each format writes it."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import typing
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from services.intake.channels.open311_mapping import service_code as intake_service_code
from services.kernel.events.contracts import Kind
from services.reporting.models import CaseFact
from services.reporting.open_data import (
    FIELDS,
    PUBLISHED_KINDS,
    PublicCase,
    as_csv,
    as_json,
    as_xml,
    published_address,
    service_code,
    service_request,
)

CASE = PublicCase(
    tracking_no="20261103-000042",
    status="dispatched",
    kind="complaint",
    channel="hotline",
    category="饮用水",
    department_name="县水利局",
    township="越溪乡",
    village="王家村",
    scope_level="village",
    submitted_at=datetime(2026, 11, 3, 1, 30, 15, 999, tzinfo=UTC),
    updated_at=datetime(2026, 11, 4, 16, 0, tzinfo=UTC),
    deadline=date(2026, 11, 20),
)


def test_a_case_becomes_a_georeport_service_request_in_county_time() -> None:
    assert service_request(CASE) == {
        "service_request_id": "20261103-000042",
        "status": "open",
        "service_name": "饮用水",
        "service_code": service_code("饮用水"),
        "agency_responsible": "县水利局",
        "requested_datetime": "2026-11-03T09:30:15+08:00",
        "updated_datetime": "2026-11-05T00:00:00+08:00",
        "expected_datetime": "2026-11-20T23:59:59+08:00",
        "address": "越溪乡王家村",
        "kind": "complaint",
        "channel": "hotline",
    }


@pytest.mark.parametrize("status", ["resolved", "answered", "closed", "merged"])
def test_a_finished_case_is_closed_and_expects_nothing_more(status: str) -> None:
    request = service_request(dataclasses.replace(CASE, status=status))
    assert (request["status"], request["expected_datetime"]) == ("closed", None)


@pytest.mark.parametrize("status", ["received", "awaiting_dispatch", "dispatched", "accepted"])
def test_a_case_still_being_handled_is_open(status: str) -> None:
    assert service_request(dataclasses.replace(CASE, status=status))["status"] == "open"


@pytest.mark.parametrize(
    ("scope", "address"),
    [
        ("society", "越溪乡王家村"),
        ("village", "越溪乡王家村"),
        ("villager-group", "越溪乡王家村"),
        ("family", "越溪乡"),
        ("individual", "越溪乡"),
        (None, "越溪乡"),
    ],
)
def test_the_village_is_published_only_for_matters_wider_than_a_household(
    scope: str | None, address: str
) -> None:
    assert published_address("越溪乡", "王家村", scope) == address


def test_a_case_with_no_place_has_no_address() -> None:
    assert published_address(None, None, "village") is None
    assert published_address(None, "王家村", "village") == "王家村"


def test_every_kind_but_the_tip_off_is_published() -> None:
    assert set(PUBLISHED_KINDS) == set(typing.get_args(Kind)) - {"tip-off"}


def test_service_codes_are_those_of_intakes_open311_service_list() -> None:
    for category in ("饮用水", "道路", "Street light", None):
        assert service_code(category) == intake_service_code(category)


def test_a_published_request_carries_only_columns_that_cannot_name_a_person() -> None:
    # The read model's columns open data may read; adding one to PublicCase fails here until
    # someone has decided it is safe to publish.
    read = {field.name for field in dataclasses.fields(PublicCase)}
    assert read <= set(CaseFact.__table__.columns.keys())
    assert read.isdisjoint({"first_contact_id", "first_contact_name", "case_id"})
    assert set(service_request(CASE)) == set(FIELDS)
    assert set(FIELDS).isdisjoint({"description", "lat", "long", "media_url", "address_id"})


def test_json_lists_the_requests_with_chinese_as_it_is() -> None:
    body = as_json([service_request(CASE)])
    assert json.loads(body) == [service_request(CASE)]
    assert "越溪乡".encode() in body


def test_xml_is_georeports_service_requests_of_request_elements() -> None:
    body = as_xml([service_request(CASE)])
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    root = ET.fromstring(body)
    assert root.tag == "service_requests"
    (request,) = root
    assert request.tag == "request"
    assert [child.tag for child in request] == list(FIELDS)
    assert request.findtext("address") == "越溪乡王家村"
    closed = ET.fromstring(as_xml([service_request(dataclasses.replace(CASE, status="closed"))]))
    empty = closed.find("request/expected_datetime")
    assert empty is not None
    assert empty.text is None


def test_csv_has_a_header_of_the_fields_and_opens_as_utf8_in_a_spreadsheet() -> None:
    body = as_csv([service_request(CASE)])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(FIELDS)
    assert rows[1][FIELDS.index("address")] == "越溪乡王家村"
    assert rows[1][FIELDS.index("expected_datetime")] == "2026-11-20T23:59:59+08:00"


def test_csv_never_hands_a_spreadsheet_a_formula() -> None:
    # A village name is read from what a citizen typed.
    planted = dataclasses.replace(CASE, township=None, village="=HYPERLINK(1)村")
    rows = list(csv.reader(io.StringIO(as_csv([service_request(planted)]).decode("utf-8-sig"))))
    assert rows[1][FIELDS.index("address")] == "'=HYPERLINK(1)村"
