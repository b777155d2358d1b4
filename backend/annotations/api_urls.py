app_name = "annotations-api"

urlpatterns: list = []
