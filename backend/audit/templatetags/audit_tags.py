from django import template

from audit import signatures as esign

register = template.Library()


@register.inclusion_tag("audit/_signatures.html")
def signatures_of(target):
    """Every signature on ``target`` with printed name, date and time (UTC) and meaning, as
    each display of a signed record must show them (21 CFR 11.50), flagging one whose record's
    content (recomputed from its stored bytes) changed after signing:
    ``{% load audit_tags %}{% signatures_of mask_version %}``."""
    found = esign.signatures_of(target).select_related("audit_entry")
    return {"signatures": esign.checked(found)}


def object_history_href(object_type: str, object_id: str) -> str:
    """The link to one object's history for any stored ``object_type``/``object_id``: these
    are arbitrary strings (a failed sign-in's object is the user name typed, ``x/y`` or
    ``a?b#c``), so each is percent-encoded whole instead of being handed to ``{% url %}``,
    which raised NoReverseMatch (a 500 on the auditor's pages). Where no path can carry the
    value (an empty part, or a ``.``/``..`` segment a browser would collapse) the link is the
    trail filtered to that object instead."""
    from urllib.parse import quote, urlencode

    from django.urls import reverse

    segments = f"{object_type}/{object_id}".split("/")
    if object_type and object_id and not {".", ".."} & set(segments) and "/" not in object_type:
        base = reverse("audit:object-history", args=["TYPE", "ID"])
        return base.replace("TYPE", quote(object_type, safe=""), 1).replace(
            "ID", quote(object_id, safe=""), 1)
    return reverse("audit:trail") + "?" + urlencode(
        {"object_type": object_type, "object_id": object_id})


@register.simple_tag
def object_history_url(object_type, object_id) -> str:
    return object_history_href(str(object_type or ""), str(object_id or ""))
