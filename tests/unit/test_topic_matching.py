"""Which handler queue a retained event is sent to on a rebuild: AMQP topic binding rules."""

from __future__ import annotations

import pytest

from services.kernel.bus import topic_matches


@pytest.mark.parametrize(
    ("binding", "key", "matches"),
    [
        ("case.submitted.v1", "case.submitted.v1", True),
        ("case.submitted.v1", "case.submitted.v2", False),
        ("case.*.v1", "case.assigned.v1", True),
        ("case.*", "case.assigned.v1", False),
        ("case.#", "case.assigned.v1", True),
        ("case.#", "case", True),
        ("#", "message.sent.v1", True),
        ("#.v1", "case.merged.v1", True),
        ("case.#.v1", "message.sent.v1", False),
    ],
)
def test_a_binding_takes_the_keys_rabbitmq_would_route_to_it(
    binding: str, key: str, matches: bool
) -> None:
    assert topic_matches(binding, key) is matches
