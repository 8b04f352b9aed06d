"""The categories intake offers, from routing's catalogue event."""

from datetime import UTC, datetime

from services.intake.handlers import catalogue_categories
from services.kernel.events.contracts import CatalogueDepartment, CataloguePublished


def test_categories_keep_catalogue_order_and_a_repeated_one_goes_to_the_first() -> None:
    event = CataloguePublished(
        departments=(
            CatalogueDepartment(
                code="hrss", name="人社局", name_en="HRSS", categories=("就业", "社保")
            ),
            CatalogueDepartment(
                code="union", name="总工会", name_en="Union", categories=("工会", "就业")
            ),
        )
    )
    at = datetime(2026, 11, 26, tzinfo=UTC)
    rows = catalogue_categories(event, at)
    assert [(r.category, r.department_code, r.position) for r in rows] == [
        ("就业", "hrss", 0),
        ("社保", "hrss", 1),
        ("工会", "union", 2),
    ]
    assert all(r.published_at == at for r in rows)
