"""Fine-tuned model versions as engines: every stored version is registered under its own
name (``litemedsam-ft-<sha>``); a prompt library entry uses one only once a prompt
administrator approves a version of the entry pinned to it."""
import logging
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError

logger = logging.getLogger(__name__)

MODELS_FOLDER = "models"


def models_folder() -> Path:
    return Path(settings.MEDIA_ROOT) / MODELS_FOLDER


def register_model_versions() -> None:
    """Registry provider: register each stored model version not yet registered here."""
    from model.engines.finetuned import register_finetuned

    from .models import ModelVersion

    try:
        versions = list(ModelVersion.objects.values_list("weights_sha256", "label"))
    except DatabaseError:
        logger.debug("model versions not readable yet (migrations pending?)", exc_info=True)
        return
    for sha256, label in versions:
        register_finetuned(models_folder() / f"{sha256}.pth", sha256, label)
