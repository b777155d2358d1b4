from .jobs import Job, JobStatus, JobTransition
from .results import MaskVersion, Result, ResultState, ResultTransition

__all__ = [
    "Job", "JobStatus", "JobTransition", "MaskVersion", "Result", "ResultState",
    "ResultTransition",
]
