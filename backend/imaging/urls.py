app_name = "imaging"

urlpatterns: list = []
