"""Every change to the prompt library goes through these functions (the action pattern)."""
from .exchange import (
    ImportLine,
    LoadReport,
    do_export_bundle,
    do_import_bundle,
    do_load_library,
    do_record_robustness,
    preview_import,
)
from .versions import (
    PromptActionRefused,
    do_approve,
    do_create_draft,
    do_create_entry,
    do_reject,
    do_retire,
    do_submit,
    do_update_draft,
)

__all__ = [
    "ImportLine", "LoadReport", "PromptActionRefused", "do_approve", "do_create_draft",
    "do_create_entry", "do_export_bundle", "do_import_bundle", "do_load_library",
    "do_record_robustness", "do_reject", "do_retire", "do_submit", "do_update_draft",
    "preview_import",
]
