from django.urls import path

from planning import views

app_name = "planning"
urlpatterns = [
    path("", views.home, name="home"),
]
