from django.apps import AppConfig


class PromptsConfig(AppConfig):
    name = "prompts"

    def ready(self) -> None:
        from audit.signed_content import register

        from . import signed_content

        register("prompts.promptversion", signed_content.prompt_version_sha256)
