"""Open311 GeoReport v2 documents as JSON and as XML, both from one tree of plain values.

The spec defines the XML and maps it to JSON by the "Spark convention": a container element
whose children all repeat one name is a JSON array, any other element an object, an empty element
`null`. Going the other way, a list under a key becomes that key's element holding one child per
item, each named as `ITEM_NAMES` says.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Literal

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}

Value = None | bool | int | float | str | Sequence["Value"] | Mapping[str, "Value"]

# The element each item of a list is wrapped in, by the list's own element name.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "notes": "note",
}
_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot carry at all, not even escaped: most C0 controls, lone surrogates
# and the two non-characters. A description pasted from anywhere may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(document: Value, root: str, fmt: Format) -> bytes:
    """The document in `fmt`; `root` names the XML root element (JSON has none)."""
    return render_json(document) if fmt == "json" else render_xml(document, root)


def render_json(document: Value) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(errors="replace")


def render_xml(document: Value, root: str) -> bytes:
    """UTF-8 XML with the declaration the spec asks for, every text escaped."""
    body = ET.tostring(_element(root, document), encoding="unicode")
    return (_XML_DECLARATION + body).encode()


def _element(name: str, value: Value) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, Mapping):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        item = ITEM_NAMES.get(name)
        if item is None:
            raise ValueError(f"no item element is named for the list {name!r}")
        for child in value:
            element.append(_element(item, child))
    elif value is not None:
        element.text = xml_text(value)
    return element


def xml_text(value: bool | int | float | str) -> str:
    """A scalar as the spec writes it in XML: `true`/`false`, numbers as JSON has them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return _NOT_XML.sub("", value)


def errors_document(descriptions: Sequence[str], code: int) -> list[dict[str, Value]]:
    """The spec's error body: one `{code, description}` per problem, under `errors`."""
    return [{"code": code, "description": text} for text in descriptions]
