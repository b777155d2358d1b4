app_name = "audit-api"

urlpatterns: list = []
