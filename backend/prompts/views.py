"""Server-rendered administration pages of the prompt library. Thin: reads go through
``selectors``, every change through ``actions``; a refusal comes back as a message."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import Role
from audit.signatures import SignatureRefused

from . import actions, selectors
from .bundle import dumps
from .diff import field_changes, side_by_side
from .forms import NewEntryForm, protocol_template
from .models import VersionState
from .source import dump_yaml, parse_yaml


def _admin(request) -> bool:
    return request.user.has_role(Role.PROMPT_ADMIN)


def _require_admin(request) -> None:
    if not _admin(request):
        raise PermissionDenied("Only a prompt-library administrator can change the library.")


def _refusal(request, exc) -> None:
    for message in getattr(exc, "messages", None) or [str(exc)]:
        messages.error(request, message)


@login_required
def library(request):
    site = request.user.site
    query, modality = request.GET.get("q", ""), request.GET.get("modality", "")
    matches = selectors.resolve_for_site(site, query, modality) if query and modality else []
    return render(request, "prompts/library.html", {
        "entries": selectors.site_entries(site), "query": query, "modality": modality,
        "matches": matches, "is_admin": _admin(request),
    })


@login_required
def entry(request, key):
    found = selectors.site_entries(request.user.site).filter(key=key).first()
    if found is None:
        raise Http404("No such entry in this site's library.")
    return render(request, "prompts/entry.html", {
        "entry": found, "versions": found.versions.select_related("author", "approved_by"),
        "is_admin": _admin(request),
    })


@login_required
def new_entry(request):
    """A new structure: the entry and its first draft, through the API's action."""
    _require_admin(request)
    form = NewEntryForm(request.POST or None,
                        initial={"protocol": protocol_template(request.user)})
    if request.method == "POST" and form.is_valid():
        document = form.document()
        if document is not None:
            try:
                created = actions.do_create_entry(request.user, request.user.site, document)
            except ValidationError as exc:
                form.add_refusal(exc.messages)
            else:
                messages.success(request, f"Created {created.label} as a draft: edit it, then "
                                          "submit it for review.")
                return redirect("prompts:version", pk=created.pk)
    return render(request, "prompts/new_entry.html", {"form": form})


@login_required
def version(request, pk):
    shown = selectors.site_version(request.user.site, pk)
    active = shown.entry.active_version
    repeats = active if (shown.state in (VersionState.DRAFT, VersionState.IN_REVIEW)
                         and active is not None
                         and active.content_sha256 == shown.content_sha256) else None
    pending = shown.state in (VersionState.DRAFT, VersionState.IN_REVIEW)
    compare = active if pending and active is not None and active.pk != shown.pk else None
    return render(request, "prompts/version.html", {
        "version": shown, "entry": shown.entry, "yaml": dump_yaml(shown.content),
        "repeats_active": repeats,
        # The two-person rule, said before anyone types a password.
        "wrote_it": shown.contributors.filter(pk=request.user.pk).exists(),
        # What the reviewer is asked to approve: the change from what is in use now.
        "compared_with": compare,
        "changes": ([c.as_dict() for c in field_changes(compare.content, shown.content)]
                    if compare else []),
        "transitions": shown.transitions.all(), "robustness": shown.robustness.all(),
        "is_admin": _admin(request),
    })


@login_required
def edit(request, pk):
    _require_admin(request)
    draft = selectors.site_version(request.user.site, pk)
    text = dump_yaml(draft.content)
    if request.method == "POST":
        text = request.POST.get("yaml", "")
        document, problems = parse_yaml(text, draft.label)
        try:
            if problems:
                raise ValidationError([str(p) for p in problems])
            actions.do_update_draft(request.user, draft, document)
        except ValidationError as exc:
            _refusal(request, exc)
        else:
            messages.success(request, f"Saved {draft.label}.")
            return redirect("prompts:version", pk=draft.pk)
    return render(request, "prompts/edit.html", {"version": draft, "yaml": text})


@login_required
@require_POST
def act(request, pk, action):
    _require_admin(request)
    target = selectors.site_version(request.user.site, pk)
    reason = request.POST.get("reason", "")
    calls = {
        "new-draft": lambda: actions.do_create_draft(request.user, target),
        "submit": lambda: actions.do_submit(request.user, target),
        "approve": lambda: actions.do_approve(request.user, target,
                                              password=request.POST.get("password", ""),
                                              reason=reason),
        "reject": lambda: actions.do_reject(request.user, target, reason),
        "retire": lambda: actions.do_retire(request.user, target, reason),
    }
    if action not in calls:
        raise Http404("Unknown action.")
    try:
        result = calls[action]()
    except (ValidationError, SignatureRefused) as exc:
        _refusal(request, exc)
        return redirect("prompts:version", pk=target.pk)
    messages.success(request, f"{result.label} is now {result.get_state_display()}.")
    return redirect("prompts:version", pk=result.pk)


@login_required
def diff(request):
    try:
        a = selectors.site_version(request.user.site, int(request.GET["a"]))
        b = selectors.site_version(request.user.site, int(request.GET["b"]))
    except (KeyError, ValueError) as exc:
        raise Http404("Choose two versions to compare.") from exc
    return render(request, "prompts/diff.html", {
        "a": a, "b": b, "changes": [c.as_dict() for c in field_changes(a.content, b.content)],
        "rows": side_by_side(a.content, b.content),
    })


@login_required
def exchange(request):
    _require_admin(request)
    site = request.user.site
    context = {"entries": selectors.site_entries(site)}
    if request.method == "POST" and request.POST.get("step") == "export":
        try:
            bundle = actions.do_export_bundle(request.user, site,
                                              request.POST.getlist("keys") or None)
        except ValidationError as exc:
            _refusal(request, exc)
        else:
            response = HttpResponse(dumps(bundle), content_type="application/json")
            name = f"prompt-library-{site.code}-{bundle['items_sha256'][:8]}.json"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    elif request.method == "POST":
        upload = request.FILES.get("bundle")
        raw = upload.read().decode("utf-8", "replace") if upload else request.POST.get("raw", "")
        name = upload.name if upload else request.POST.get("name", "bundle")
        try:
            if request.POST.get("step") == "confirm":
                drafts = actions.do_import_bundle(request.user, site, raw, name)
                messages.success(request, f"Created {len(drafts)} drafts awaiting approval.")
                return redirect("prompts:library")
            header, lines = actions.preview_import(site, raw, name)
            context.update(preview=lines, header=header, raw=raw, name=name)
        except ValidationError as exc:
            _refusal(request, exc)
    return render(request, "prompts/exchange.html", context)
