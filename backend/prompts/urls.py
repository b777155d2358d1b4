app_name = "prompts"

urlpatterns: list = []
