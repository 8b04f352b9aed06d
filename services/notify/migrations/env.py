from services.kernel.migrations import run_env
from services.notify.models import Base

run_env(Base.metadata)
