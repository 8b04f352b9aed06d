"""The envelope on the bus, the registry of versioned payloads, and the contracts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.kernel.consumer import Subscriptions
from services.kernel.events import (
    Envelope,
    Event,
    UnknownEvent,
    decode,
    lookup,
    registered,
    routing_key,
)
from services.kernel.events.contracts import CaseSubmitted, CaseSubmittedV1, Contact, Location
from services.kernel.events.registry import event

CASE_ID = uuid.UUID("0b6f1c1e-3f7a-4d2b-9a51-2f0c7d9e8a11")


def submitted() -> CaseSubmitted:
    return CaseSubmitted(
        case_id=CASE_ID,
        tracking_no="20261127-000001",
        access_code="7K3MPX",
        channel="web",
        kind="complaint",
        category=None,
        description="小区门口的路灯坏了两个星期",
        location=Location(address="宁海县跃龙街道某小区", lat=29.29, lon=121.43),
        contact=Contact(name="张三", phone="13812345678"),
        submitted_at=datetime(2026, 11, 27, 1, 30, tzinfo=UTC),
        promised_date=date(2026, 12, 16),
    )


def envelope_fields(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "type": "case.submitted",
        "version": 1,
        "occurred_at": datetime(2026, 11, 27, 1, 30, tzinfo=UTC),
        "producer": "intake",
        "case_id": CASE_ID,
        "trace_id": "trace-1",
        "data": submitted().model_dump(mode="json"),
    }
    fields.update(overrides)
    return fields


def test_envelope_survives_the_trip_to_bytes_and_back() -> None:
    envelope = submitted().envelope(producer="intake", case_id=CASE_ID)

    assert Envelope.from_bytes(envelope.to_bytes()) == envelope
    assert Envelope.from_bytes(envelope.to_bytes().decode()) == envelope


def test_routing_key_is_type_then_version() -> None:
    envelope = submitted().envelope(producer="intake")

    assert envelope.routing_key == "case.submitted.v2"
    assert routing_key("case.assigned", 2) == "case.assigned.v2"


def test_occurred_at_without_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        Envelope(**envelope_fields(occurred_at=datetime(2026, 11, 27, 9, 30)))


def test_occurred_at_is_converted_to_utc() -> None:
    shanghai = timezone(timedelta(hours=8))

    envelope = Envelope(
        **envelope_fields(occurred_at=datetime(2026, 11, 27, 2, 0, tzinfo=shanghai))
    )

    assert envelope.occurred_at == datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
    assert envelope.occurred_at.utcoffset() == timedelta(0)
    assert '"occurred_at":"2026-11-26T18:00:00Z"' in envelope.to_bytes().decode()


def test_envelope_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        Envelope(**envelope_fields(priority="high"))


def test_decode_gives_back_the_typed_payload() -> None:
    sent = submitted()

    received = decode(Envelope.from_bytes(sent.envelope(producer="intake").to_bytes()))

    assert isinstance(received, CaseSubmitted)
    assert received == sent
    assert received.location is not None
    assert received.location.address == "宁海县跃龙街道某小区"


@pytest.mark.parametrize(
    ("event_type", "version"), [("case.submitted", 99), ("case.teleported", 1)]
)
def test_unknown_type_or_version_raises_unknown_event(event_type: str, version: int) -> None:
    envelope = Envelope(**envelope_fields(type=event_type, version=version))

    with pytest.raises(UnknownEvent, match=f"{event_type} v{version}"):
        decode(envelope)


def test_extra_field_in_data_is_refused() -> None:
    data = submitted().model_dump(mode="json") | {"priority": "high"}

    with pytest.raises(ValidationError, match="priority"):
        decode(Envelope(**envelope_fields(data=data)))


def test_missing_field_in_data_is_refused() -> None:
    data = submitted().model_dump(mode="json")
    del data["tracking_no"]

    with pytest.raises(ValidationError, match="tracking_no"):
        decode(Envelope(**envelope_fields(data=data)))


def test_payloads_and_envelopes_are_frozen() -> None:
    payload = submitted()
    envelope = payload.envelope(producer="intake")

    with pytest.raises(ValidationError):
        payload.tracking_no = "20261127-000002"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        envelope.producer = "routing"  # type: ignore[misc]
    assert payload.tracking_no == "20261127-000001"


def test_event_envelope_fills_type_version_producer_case_and_trace() -> None:
    envelope = submitted().envelope(producer="intake", case_id=CASE_ID, trace_id="abc123")

    assert envelope.type == "case.submitted"
    assert envelope.version == 2
    assert envelope.producer == "intake"
    assert envelope.case_id == CASE_ID
    assert envelope.trace_id == "abc123"
    assert envelope.occurred_at.utcoffset() == timedelta(0)
    assert envelope.data["tracking_no"] == "20261127-000001"


def test_each_envelope_gets_its_own_id_and_a_fresh_trace_when_none_is_given() -> None:
    first = submitted().envelope(producer="intake")
    second = submitted().envelope(producer="intake")

    assert first.id != second.id
    assert first.trace_id
    assert first.trace_id != second.trace_id
    assert first.case_id is None


def test_lookup_finds_the_registered_model() -> None:
    assert lookup("case.submitted", 2) is CaseSubmitted
    assert CaseSubmitted in set(registered())


def test_every_registered_event_has_a_distinct_routing_key() -> None:
    keys = [routing_key(cls.event_type, cls.event_version) for cls in registered()]

    assert len(keys) == len(set(keys))
    assert "case.submitted.v2" in keys


def test_registering_the_same_type_and_version_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):

        @event("case.submitted", 1)
        class Impostor(Event):
            tracking_no: str

    assert lookup("case.submitted", 2) is CaseSubmitted


def test_an_older_version_decodes_as_the_newest_with_its_defaults() -> None:
    old = CaseSubmittedV1(**submitted().model_dump(include=set(CaseSubmittedV1.model_fields)))
    envelope = old.envelope(producer="intake")

    payload = decode(envelope)

    assert envelope.routing_key == "case.submitted.v1"
    assert isinstance(payload, CaseSubmitted)
    assert payload.tracking_no == old.tracking_no
    assert payload.sealed_contact is None
    assert payload.answered_directly is False


def test_a_handler_of_the_newest_version_is_bound_to_the_older_ones_too() -> None:
    subscriptions = Subscriptions("test")

    @subscriptions.subscribe(CaseSubmitted)
    def handler(event: CaseSubmitted, work: object) -> None: ...

    [subscription] = list(subscriptions)
    assert set(subscription.routing_keys) == {"case.submitted.v1", "case.submitted.v2"}
