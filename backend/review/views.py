"""Server-rendered QA pages: the review queue and a case, the metrics dashboard, prompt
version alerts, the site's QA policy and audit reports. Thin: reads here, changes through
``review.actions``; a refusal comes back as a message on the same page."""
import base64
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.roles import Role
from audit.signatures import SignatureRefused
from core.params import parse_id

from . import actions, metrics, plots
from .blinding import disclosure
from .forms import (
    AdjudicationForm,
    MetricsFilter,
    PolicyForm,
    ReasonForm,
    ReportForm,
    VerdictForm,
    WatchForm,
)
from .models import (
    AuditReport,
    PromptVersionAlert,
    QAItem,
    QAState,
    ReportStatus,
    WatchedAnnotator,
)

METRIC_ROLES = (Role.REVIEWER, Role.PROMPT_ADMIN, Role.AUDITOR, Role.SITE_ADMIN)


def for_roles(*roles):
    def decorate(view):
        @wraps(view)
        @never_cache
        @login_required
        def guarded(request, *args, **kwargs):
            if not request.user.has_role(*roles):
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def _posted_id(request, name: str) -> int:
    """The id posted as ``name``; a 404 naming it when it cannot name a row (a malformed or
    out-of-range number must not reach the database as a 500)."""
    number = parse_id(request.POST.get(name))
    if number is None:
        raise Http404(f"No {name} {str(request.POST.get(name, ''))[:40]!r}.")
    return number


def _refusal(request, problem) -> None:
    for message in getattr(problem, "messages", None) or [str(problem)]:
        messages.error(request, message)


def _site_items(request):
    return QAItem.objects.filter(site=request.user.site_id).select_related(
        "result__prompt_version__entry", "result__series", "reviewer", "adjudicator")


@for_roles(Role.REVIEWER)
def queue(request):
    items = _site_items(request)
    return render(request, "review/queue.html", {
        "open_items": items.filter(state__in=[QAState.SAMPLED, QAState.IN_REVIEW]),
        "to_adjudicate": items.filter(state=QAState.DISAGREED),
        "closed": items.filter(state__in=[QAState.AGREED, QAState.ADJUDICATED])
        .order_by("-id")[:50],
    })


@for_roles(Role.REVIEWER)
def item(request, pk: int):
    shown = get_object_or_404(_site_items(request).select_related(
        "result__decided_by", "result__signature", "result__final_version",
        "review_signature", "adjudication_signature"), pk=pk)
    return render(request, "review/item.html", {
        "item": shown, "result": shown.result, "shown": disclosure(shown, request.user),
        "transitions": shown.transitions.select_related("actor"),
        "verdict_form": VerdictForm(), "adjudication_form": AdjudicationForm(),
        "release_form": ReasonForm(),
        "is_mine": shown.reviewer_id == request.user.pk,
    })


STEPS = {
    "start": (None, lambda user, item, data: actions.do_start_review(user, item)),
    "release": (ReasonForm, lambda user, item, data: actions.do_release_review(
        user, item, data["reason"])),
    "verdict": (VerdictForm, lambda user, item, data: actions.do_record_verdict(
        user, item, data["verdict"], data["reason"], data["password"])),
    "adjudicate": (AdjudicationForm, lambda user, item, data: actions.do_adjudicate(
        user, item, data["outcome"], data["reason"], data["password"])),
}


@require_POST
@for_roles(Role.REVIEWER)
def item_step(request, pk: int, step: str):
    if step not in STEPS:
        raise PermissionDenied("No such step.")
    target = get_object_or_404(_site_items(request), pk=pk)
    form_class, act = STEPS[step]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect("review:item", pk=pk)
    try:
        act(request.user, target, form.cleaned_data if form else {})
    except (ValidationError, PermissionDenied, SignatureRefused) as problem:
        _refusal(request, problem)
    else:
        messages.success(request, f"Done: {step}.")
    return redirect("review:item", pk=pk)


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


@for_roles(*METRIC_ROLES)
def dashboard(request):
    form = MetricsFilter(request.GET or None)
    values = form.cleaned_data if form.is_bound and form.is_valid() else {}
    group_by = values.get("group_by") or "prompt_version"
    period = values.get("period") or "month"
    scope = metrics.Scope(site_id=request.user.site_id, start=values.get("start"),
                          end=values.get("end"), structure_key=values.get("structure", ""),
                          viewer=request.user)
    groups = metrics.compute(scope, group_by, period)
    periods = metrics.compute(scope, "period", period)
    title = group_by.replace("_", " ")
    return render(request, "review/dashboard.html", {
        "form": form, "group_by": title, "overall": metrics.overall(scope), "groups": groups,
        "charts": [
            _png(plots.rates_chart(groups, f"Decisions by {title}")),
            _png(plots.dice_chart(groups, f"AI original vs confirmed, by {title}")),
            _png(plots.trend_chart(periods, f"Rates by {period}")),
        ],
        "open_alerts": PromptVersionAlert.objects.filter(
            site=request.user.site_id, acknowledged_at__isnull=True).count(),
    })


@for_roles(Role.PROMPT_ADMIN, Role.AUDITOR)
def alerts(request):
    if request.method == "POST":
        alert = get_object_or_404(PromptVersionAlert, pk=_posted_id(request, "alert"),
                                  site=request.user.site_id)
        try:
            actions.do_acknowledge_alert(request.user, alert, request.POST.get("note", ""))
        except (ValidationError, PermissionDenied) as problem:
            _refusal(request, problem)
        return redirect("review:alerts")
    return render(request, "review/alerts.html", {
        "alerts": PromptVersionAlert.objects.filter(site=request.user.site_id).select_related(
            "prompt_version__entry", "acknowledged_by"),
        "can_acknowledge": request.user.has_role(Role.PROMPT_ADMIN),
    })


@for_roles(Role.SITE_ADMIN)
def policy(request):
    site = request.user.site
    current = actions.policy_for(site)
    fields = list(PolicyForm.base_fields)[:-1]
    policy_form = PolicyForm(initial={name: getattr(current, name) for name in fields})
    watch_form = WatchForm(site=site)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "update":
                policy_form = PolicyForm(request.POST)
                if policy_form.is_valid():
                    data = dict(policy_form.cleaned_data)
                    reason = data.pop("reason")
                    changed = {k: v for k, v in data.items() if getattr(current, k) != v}
                    actions.do_update_policy(request.user, site, changed, reason)
                    return redirect("review:policy")
            elif request.POST.get("action") == "watch":
                watch_form = WatchForm(request.POST, site=site)
                if watch_form.is_valid():
                    actions.do_watch_annotator(request.user, site,
                                               watch_form.cleaned_data["annotator"],
                                               watch_form.cleaned_data["reason"])
                    return redirect("review:policy")
            elif request.POST.get("action") == "unwatch":
                annotator = get_object_or_404(User, pk=_posted_id(request, "annotator"),
                                              site=site)
                actions.do_unwatch_annotator(request.user, site, annotator,
                                             request.POST.get("reason", ""))
                return redirect("review:policy")
        except (ValidationError, PermissionDenied) as problem:
            _refusal(request, problem)
    return render(request, "review/policy.html", {
        "policy": current, "policy_form": policy_form, "watch_form": watch_form,
        "watched": WatchedAnnotator.objects.filter(site=site).select_related(
            "annotator", "added_by"),
    })


@for_roles(Role.AUDITOR)
def reports(request):
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_request_report(request.user, form.cleaned_data["period_start"],
                                      form.cleaned_data["period_end"],
                                      form.cleaned_data["structure_key"])
            messages.success(request, "The report is being built; this page shows its "
                             "progress.")
            return redirect("review:reports")
        except (ValidationError, PermissionDenied) as problem:
            _refusal(request, problem)
    listed = list(AuditReport.objects.filter(site=request.user.site_id).select_related(
        "requested_by", "annotator", "prompt_version__entry")[:50])
    return render(request, "review/reports.html", {
        "form": form, "reports": listed,
        "building": any(r.status in (ReportStatus.QUEUED, ReportStatus.RUNNING) for r in listed),
    })
