from .items import (
    OPEN_STATES,
    Adjudication,
    QAItem,
    QAState,
    QATransition,
    SamplingDecision,
    Verdict,
)
from .performance import MaskChange, PromptVersionAlert
from .policy import ReviewMode, SitePolicy, WatchedAnnotator
from .reports import AuditReport, ReportStatus, ReportTransition

__all__ = [
    "OPEN_STATES", "Adjudication", "AuditReport", "MaskChange", "PromptVersionAlert", "QAItem",
    "QAState", "QATransition", "ReportStatus", "ReportTransition", "ReviewMode",
    "SamplingDecision", "SitePolicy", "Verdict", "WatchedAnnotator",
]
