"""Read-only queries shared by the API, the pages and other apps (annotations records the
exact ``PromptVersion`` a result used: ``active_version(site, key)``)."""
from django.shortcuts import get_object_or_404

from .models import PromptEntry, PromptVersion, VersionState
from .synonyms import Candidate, Match, resolve


def site_entries(site, modality: str | None = None):
    entries = PromptEntry.objects.filter(site=site).prefetch_related("versions")
    return entries.filter(modality=modality.upper()) if modality else entries


def site_version(site, pk) -> PromptVersion:
    return get_object_or_404(
        PromptVersion.objects.select_related("entry", "author", "approved_by",
                                             "approval_signature"),
        pk=pk, entry__site=site,
    )


def active_version(site, key: str) -> PromptVersion | None:
    return PromptVersion.objects.filter(
        entry__site=site, entry__key=key, state=VersionState.APPROVED
    ).select_related("entry").first()


def resolve_for_site(site, text: str, modality: str) -> list[tuple[Match, PromptVersion]]:
    """Approved entries for ``modality`` that ``text`` may mean, best first. The text selects
    an entry and goes no further: what reaches a model is the entry's approved content."""
    approved = {
        v.entry.key: v
        for v in PromptVersion.objects.filter(
            entry__site=site, entry__modality=modality.upper(), state=VersionState.APPROVED
        ).select_related("entry")
    }
    candidates = [
        Candidate(key, v.content["name"], v.entry.modality, tuple(v.content["synonyms"]))
        for key, v in approved.items()
    ]
    return [(match, approved[match.key]) for match in resolve(text, candidates, modality)]
