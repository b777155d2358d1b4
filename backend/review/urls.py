from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("items/<int:pk>/", views.item, name="item"),
    path("items/<int:pk>/<slug:step>/", views.item_step, name="item-step"),
    path("metrics/", views.dashboard, name="dashboard"),
    path("alerts/", views.alerts, name="alerts"),
    path("policy/", views.policy, name="policy"),
    path("reports/", views.reports, name="reports"),
]
