from django.urls import path

from planning import views

app_name = "planning"
urlpatterns = [
    path("", views.home, name="home"),
    path("periods/<int:pk>/close/", views.period_toggle, {"action": "close"}, name="period-close"),
    path("periods/<int:pk>/reopen/", views.period_toggle, {"action": "reopen"}, name="period-reopen"),
    path("taxonomy/", views.taxonomy, name="taxonomy"),
    path("objectives/new/", views.objective_create, name="objective-create"),
    path("objectives/<int:pk>/", views.objective_detail, name="objective-detail"),
]
