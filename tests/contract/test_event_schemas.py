"""Published event versions are frozen: their committed JSON Schemas must not drift."""

from __future__ import annotations

import json

import pytest

from services.kernel.events import registered
from services.kernel.events.registry import SCHEMA_DIR, schema_file, schema_of

EVENTS = list(registered())


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: f"{e.event_type}.v{e.event_version}")
def test_payload_matches_its_committed_schema(event: type) -> None:
    path = schema_file(event)
    assert path.exists(), (
        f"{path.name} is missing: run `python -m services.kernel.events` and commit it"
    )
    committed = json.loads(path.read_text(encoding="utf-8"))
    assert schema_of(event) == committed, (
        f"{event.event_type} v{event.event_version} changed shape; published versions are "
        "frozen — register a new version instead"
    )


def test_every_committed_schema_belongs_to_a_registered_event() -> None:
    known = {schema_file(e).name for e in EVENTS}
    stray = {p.name for p in SCHEMA_DIR.glob("*.json")} - known
    assert not stray, f"schemas without an event: {sorted(stray)}"


def test_the_core_case_events_are_registered() -> None:
    names = {(e.event_type, e.event_version) for e in EVENTS}
    assert {("case.submitted", 1), ("case.assigned", 1), ("case.pending_dispatch", 1)} <= names
