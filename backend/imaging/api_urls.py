app_name = "imaging-api"

urlpatterns: list = []
