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
