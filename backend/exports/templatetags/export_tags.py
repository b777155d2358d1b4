"""Export links on other apps' pages (the result record, the worklist) without their views
knowing about exports: who may export, what the series allows, whether a PACS is connected.

``{% result_exports result %}`` renders the export section of a result record page;
``{% may_export as flag %}`` says whether the signed-in user has an exporting role. Blinding
(``review.blinding``) applies: a result blinded to the user gets no export section at all.
"""
from django import template

from annotations.models import ResultState
from review.blinding import is_blinded

from ..results import EXPORTING_ROLES, seg_exportability
from ..seg import SegType
from ..stow import NO_PACS_MESSAGE, pacs_configured

register = template.Library()

BEFORE_CONFIRMATION = (ResultState.AI_DRAFT, ResultState.EDITED)


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


def _may_export(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(*EXPORTING_ROLES))


@register.simple_tag(takes_context=True)
def may_export(context) -> bool:
    return _may_export(_user(context))


@register.inclusion_tag("exports/_record_exports.html", takes_context=True)
def result_exports(context, result):
    """The export section of ``result``'s record: POST forms whose answer is the file (SEG
    binary or label map, NIfTI), the PACS push where a PACS is connected, or why a SEG cannot
    be made; for a draft, whether a SEG will be possible once confirmed."""
    user = _user(context)
    shown = _may_export(user) and not is_blinded(user, result)
    confirmed = result.state == ResultState.CONFIRMED
    seg = None
    if shown and (confirmed or result.state in BEFORE_CONFIRMATION):
        seg = seg_exportability(result.series, user)
    return {
        "shown": shown,
        "result": result,
        "confirmed": confirmed,
        "draft": result.state in BEFORE_CONFIRMATION,
        "seg": seg,
        "pacs": pacs_configured(),
        "no_pacs": NO_PACS_MESSAGE,
        "binary": SegType.BINARY.value,
        "labelmap": SegType.LABELMAP.value,
        "csrf_token": context.get("csrf_token"),
    }
