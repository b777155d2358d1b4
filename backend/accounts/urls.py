from django.urls import path

from . import user_pages, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", user_pages.own_password, name="password"),
    path("users/", user_pages.user_list, name="users"),
    path("users/new/", user_pages.user_new, name="user-new"),
    path("users/<int:pk>/", user_pages.user_detail, name="user"),
    path("users/<int:pk>/<slug:step>/", user_pages.user_act, name="user-act"),
]
