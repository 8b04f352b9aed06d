"""FastAPI dependencies of intake's routes."""

from typing import Annotated

from fastapi import Depends

from services.kernel.http import unit_of_work_for
from services.kernel.work import Work

IntakeWork = Annotated[Work, Depends(unit_of_work_for("intake"), scope="function")]
