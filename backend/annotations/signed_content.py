"""What a signature on a mask version is checked against: the mask as its stored bytes decode
now (``audit.signed_content``)."""
from audit.signed_content import ContentUnavailable

from .models import MaskVersion


def mask_version_sha256(object_id: str) -> str:
    version = MaskVersion.objects.filter(pk=object_id).only("data", "shape").first()
    if version is None:
        raise ContentUnavailable(f"mask version {object_id} does not exist")
    try:
        return version.content_sha256()
    except ValueError as undecodable:
        raise ContentUnavailable(f"the stored mask does not decode: {undecodable}") from None
