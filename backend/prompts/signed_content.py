"""What a signature on a prompt version is checked against: the hash of its content as stored
now (``audit.signed_content``)."""
from audit.signed_content import ContentUnavailable

from .bundle import content_hash
from .models import PromptVersion


def prompt_version_sha256(object_id: str) -> str:
    version = PromptVersion.objects.filter(pk=object_id).only("content").first()
    if version is None:
        raise ContentUnavailable(f"prompt version {object_id} does not exist")
    return content_hash(version.content)
