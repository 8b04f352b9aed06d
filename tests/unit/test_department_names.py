"""Department names stay short enough for the SMS notices that name them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.kernel.events.contracts import DEPARTMENT_NAME_EN_MAX, DEPARTMENT_NAME_MAX
from services.routing.catalogue import CatalogueError, parse_catalogue_file
from services.routing.catalogue_api import DepartmentBody


@pytest.mark.parametrize(
    ("name", "name_en"),
    [
        ("县" * (DEPARTMENT_NAME_MAX + 1), "County Bureau"),
        ("县教育局", "C" * (DEPARTMENT_NAME_EN_MAX + 1)),
        # Outside GSM-7: the English notice would go out as UCS-2, in more parts.
        ("县教育局", "County Education Bureau – Schools"),
        ("县教育局", "县教育局 Bureau"),
    ],
)
def test_the_catalogue_refuses_a_name_no_one_part_notice_can_carry(name: str, name_en: str) -> None:
    with pytest.raises(ValidationError):
        DepartmentBody(name=name, name_en=name_en)
    text = f'[[departments]]\ncode = "edu"\nname = "{name}"\nname_en = "{name_en}"\n'
    with pytest.raises(CatalogueError, match="edu"):
        parse_catalogue_file(text)


def test_names_at_the_limits_are_accepted() -> None:
    name, name_en = "县" * DEPARTMENT_NAME_MAX, "County Bureau (Schools) & Sports, No. 1/2 - 'A'"
    DepartmentBody(name=name, name_en=name_en)
    text = f'[[departments]]\ncode = "edu"\nname = "{name}"\nname_en = "{name_en}"\n'
    assert parse_catalogue_file(text).departments[0].name == name
