app_name = "prompts-api"

urlpatterns: list = []
