from django.urls import path

from budgets import bva_views, request_views, transfer_views, views

app_name = "budgets"
urlpatterns = [
    path("", views.home, name="home"),
    *views.urlpatterns,
    *request_views.urlpatterns,
    *transfer_views.urlpatterns,
    *bva_views.urlpatterns,
]
