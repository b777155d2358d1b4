"""Everything that changes QA state goes through these ``do_*`` functions: authority checked,
state changed, transition row and audit entry written, in one transaction."""
from .alerts import do_acknowledge_alert, do_evaluate_prompt_version
from .policy import do_unwatch_annotator, do_update_policy, do_watch_annotator, policy_for
from .reports import do_request_report
from .review import (
    do_adjudicate,
    do_record_verdict,
    do_release_review,
    do_start_review,
    do_submit_reader_mask,
)
from .sampling import do_sample_result

__all__ = [
    "do_acknowledge_alert", "do_adjudicate", "do_evaluate_prompt_version", "do_record_verdict",
    "do_release_review", "do_request_report", "do_sample_result", "do_start_review",
    "do_submit_reader_mask", "do_unwatch_annotator", "do_update_policy", "do_watch_annotator",
    "policy_for",
]
