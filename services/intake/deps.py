"""FastAPI dependencies of intake's routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.intake.limits import SubmissionLimits
from services.kernel.http import unit_of_work_for
from services.kernel.work import Work

IntakeWork = Annotated[Work, Depends(unit_of_work_for("intake"), scope="function")]


async def submission_limits(request: Request) -> SubmissionLimits:
    # Made on first use, on the event loop's one thread, so never twice.
    state = request.app.state
    if getattr(state, "submission_limits", None) is None:
        state.submission_limits = SubmissionLimits(state.settings)
    limits: SubmissionLimits = state.submission_limits
    return limits


Limits = Annotated[SubmissionLimits, Depends(submission_limits)]
