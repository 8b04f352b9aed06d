"""Open311 documents come out as the spec's XML and its Spark-convention JSON from one tree."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from services.intake.channels.open311_format import (
    errors_document,
    render,
    render_json,
    render_xml,
)


def test_a_list_of_services_is_one_service_element_each_under_services() -> None:
    document = [
        {"service_code": "a1", "metadata": True, "keywords": "x, y", "group": None},
        {"service_code": "b2", "metadata": False, "keywords": "", "group": "县教育局"},
    ]
    root = ET.fromstring(render_xml(document, "services"))
    assert root.tag == "services"
    assert [child.tag for child in root] == ["service", "service"]
    first, second = root
    assert first.findtext("service_code") == "a1"
    assert first.findtext("metadata") == "true"
    assert second.findtext("metadata") == "false"
    assert second.findtext("group") == "县教育局"
    # An empty value is an empty element, as the spec's examples show it.
    group = first.find("group")
    assert group is not None
    assert group.text is None
    assert list(group) == []


def test_the_declaration_names_utf8_and_the_text_is_utf8() -> None:
    body = render_xml([{"description": "路灯坏了"}], "service_requests")
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<service_requests>')
    assert "路灯坏了".encode() in body


def test_nested_lists_take_their_item_names() -> None:
    definition = {
        "service_code": "a1",
        "attributes": [
            {"code": "kind", "order": 1, "values": [{"key": "help", "name": "求助"}]},
            {"code": "notice", "order": 3, "values": []},
        ],
    }
    root = ET.fromstring(render_xml(definition, "service_definition"))
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["kind", "notice"]
    assert attributes[0].findtext("order") == "1"
    assert attributes[0].findtext("values/value/name") == "求助"
    assert attributes[1].find("values") is not None
    assert list(attributes[1].findall("values/value")) == []
    discovery = {"endpoints": [{"formats": ["text/xml", "application/json"]}]}
    root = ET.fromstring(render_xml(discovery, "discovery"))
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_markup_in_text_is_escaped_and_stays_text() -> None:
    nasty = "<script>alert('x')</script> & \"quotes\" ]]> <![CDATA[ x ]]>"
    body = render_xml([{"description": nasty}], "service_requests")
    assert b"<script>" not in body
    assert ET.fromstring(body).findtext("request/description") == nasty


def test_characters_xml_cannot_carry_are_dropped_so_the_document_stays_well_formed() -> None:
    body = render_xml([{"description": "bell\x07 nul\x00 tab\t ok\ufffe"}], "service_requests")
    assert ET.fromstring(body).findtext("request/description") == "bell nul tab\t ok"
    # JSON escapes them instead: nothing is lost there.
    assert json.loads(render_json([{"d": "bell\x07"}])) == [{"d": "bell\x07"}]


def test_numbers_keep_their_json_form_in_xml() -> None:
    root = ET.fromstring(render_xml([{"lat": 29.30512, "long": 120.1, "code": 400}], "errors"))
    assert root.findtext("error/lat") == "29.30512"
    assert root.findtext("error/code") == "400"


def test_json_is_compact_utf8_not_ascii_escapes() -> None:
    assert render_json([{"service_name": "教育"}]) == '[{"service_name":"教育"}]'.encode()


def test_errors_are_code_and_description_in_both_formats() -> None:
    document = errors_document(["api_key: missing", "second"], 403)
    assert json.loads(render(document, "errors", "json")) == [
        {"code": 403, "description": "api_key: missing"},
        {"code": 403, "description": "second"},
    ]
    root = ET.fromstring(render(document, "errors", "xml"))
    assert [(e.findtext("code"), e.findtext("description")) for e in root] == [
        ("403", "api_key: missing"),
        ("403", "second"),
    ]


def test_a_list_without_an_item_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="thingies"):
        render_xml({"thingies": [1, 2]}, "root")
