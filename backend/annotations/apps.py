from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"

    def ready(self) -> None:
        from audit.signed_content import register
        from core.heartbeat import register_maintenance

        from . import signed_content, tasks

        register_maintenance(tasks.sweep)
        register("annotations.maskversion", signed_content.mask_version_sha256)
