"""The period every report is asked for: `from` and `to`, days in China Standard Time.

One model for every reporting endpoint and page, so each refuses a bad period the same way:
a 422 naming `to`, in Chinese or English.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.kernel.language import InvalidValue
from services.reporting.kpis import Period

# A longer span is a full scan of the read model for little use: ask for years one by one.
LONGEST_PERIOD_DAYS = 366


class PeriodQuery(BaseModel):
    """A period: its first and last days in China Standard Time, both included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    first: date = Field(alias="from", description="the period's first day")
    last: date = Field(alias="to", description="the period's last day")

    @field_validator("last")
    @classmethod
    def _a_real_period(cls, last: date, info: ValidationInfo) -> date:
        # Raised from the field's own validator, so the 422 names `to`, not the whole query.
        first = info.data.get("first")
        if first is None:
            return last
        if last < first:
            raise InvalidValue("must not be before from", "不能早于开始日期")
        if (last - first).days >= LONGEST_PERIOD_DAYS:
            raise InvalidValue(
                f"at most {LONGEST_PERIOD_DAYS} days after from",
                f"与开始日期相隔不能超过 {LONGEST_PERIOD_DAYS} 天",
            )
        return last

    @property
    def period(self) -> Period:
        return Period(self.first, self.last)


class PeriodOut(BaseModel):
    """A period as the answers give it back."""

    model_config = ConfigDict(populate_by_name=True)

    first: date = Field(serialization_alias="from")
    last: date = Field(serialization_alias="to")

    @classmethod
    def of(cls, period: Period) -> PeriodOut:
        return cls(first=period.first, last=period.last)
