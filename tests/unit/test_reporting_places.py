"""The township and village read from an address, and nothing finer."""

from __future__ import annotations

import pytest

from services.reporting.places import township_and_village


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("清河县城关镇东街村3组12号", ("城关镇", "东街村")),
        ("城关镇 东街村", ("城关镇", "东街村")),
        ("东街村5号", (None, "东街村")),
        ("河西区新华街道幸福社区8栋", ("新华街道", "幸福社区")),
        ("黄桥乡", ("黄桥乡", None)),
        ("人民路12号", (None, None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_the_township_and_village_an_address_names(
    address: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert township_and_village(address) == expected
