from django.urls import path

from workflows import views

app_name = "workflows"
urlpatterns = [
    path("", views.my_tasks, name="my-tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("tasks/<int:pk>/reassign/", views.task_reassign, name="task-reassign"),
    path("instances/<int:pk>/", views.instance_detail, name="instance-detail"),
    path("templates/", views.template_list, name="template-list"),
    path("templates/new/", views.template_create, name="template-create"),
    path("templates/<slug:slug>/", views.template_detail, name="template-detail"),
    path("templates/<slug:slug>/edit/", views.template_edit, name="template-edit"),
    path("templates/<slug:slug>/retire/", views.template_retire, name="template-retire"),
    path("requests/", views.request_list, name="request-list"),
    path("requests/new/", views.request_create, name="request-create"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("delegations/", views.delegation_list, name="delegation-list"),
]
