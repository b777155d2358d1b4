"""What a person may see of a QA case, so the second reading stays independent.

While a case is open (sampled or in review) a reviewer who did not produce it sees the images,
the structure and the prompt protocol, but not who read it first, their edits, signature or
comment, nor why the case was sampled (a watched annotator, a flag). In the independent mode
the confirmed mask itself stays hidden until the reviewer has stored their own. Once the
verdict is recorded everything is shown, to the reviewer and to the adjudicator alike.
"""
from dataclasses import dataclass

from django.db.models import Q

from accounts.roles import Role

from .models import OPEN_STATES, QAItem, ReviewMode
from .readers import first_readers


@dataclass(frozen=True)
class Disclosure:
    confirmed_mask: bool
    first_reading: bool  # who confirmed, edits, AI original, signature, flags, sampling reasons

    @property
    def blinded(self) -> bool:
        return not (self.confirmed_mask and self.first_reading)


def disclosure(item: QAItem, user) -> Disclosure:
    if not item.is_open or user.has_role(Role.AUDITOR) or user.pk in first_readers(item.result):
        return Disclosure(True, True)
    mask = item.mode == ReviewMode.SHOW_MASK or bool(item.reader_mask_sha256)
    return Disclosure(mask, False)


def blinded_results(user):
    """Results the user must not open through the annotations API while their QA case is
    open: every open case at the user's site that the user did not produce, for reviewers.
    An auditor reads the whole trail (who confirmed what), so, as in ``disclosure``, nothing
    is blinded to them."""
    if not (getattr(user, "is_authenticated", False) and user.has_role(Role.REVIEWER)) \
            or user.has_role(Role.AUDITOR):
        return QAItem.objects.none().values("result")
    produced = (Q(result__job__created_by=user) | Q(result__decided_by=user)
                | Q(result__mask_versions__created_by=user))
    return (QAItem.objects.filter(site=user.site_id, state__in=OPEN_STATES)
            .exclude(produced).values("result"))


def hide_blinded(queryset, user, path: str = "pk"):
    """The one filter every queryset that shows a result, its mask, its author or its state
    goes through: ``queryset`` less the rows leading (through ``path``) to a result blinded
    to ``user`` by ``blinded_results``. ``path`` is ``pk`` for results, ``result`` for jobs,
    mask versions and QA-free rows pointing at one result, ``results`` for export records (a
    record naming any blinded result is hidden)."""
    if not (getattr(user, "is_authenticated", False) and user.has_role(Role.REVIEWER)) \
            or user.has_role(Role.AUDITOR):
        return queryset
    return queryset.exclude(**{f"{path}__in": blinded_results(user)})


def is_blinded(user, result) -> bool:
    """Whether ``result`` (a Result or its id) is hidden from ``user`` outside the QA reading."""
    pk = getattr(result, "pk", result)
    return blinded_results(user).filter(result=pk).exists()


BLINDED_MESSAGE = ("This result is in an open blinded QA reading; its mask, author and state "
                   "are shown after the verdict. Open it from the review queue.")
