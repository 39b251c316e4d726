from django.urls import path

from campaigns import views
from campaigns.attachments import views as attachment_views
from campaigns.imports import views as import_views

app_name = "campaigns"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.campaign_create, name="campaign-create"),
    path("calendar/", views.campaign_calendar, name="calendar"),
    path("<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("<int:pk>/status/", views.campaign_status, name="campaign-status"),
    path("<int:pk>/submit/", views.campaign_submit, name="campaign-submit"),
    path("<int:pk>/tactics/", views.tactic_create, name="tactic-create"),
    path("<int:pk>/spend/", views.spend_log, name="spend-log"),
    path("spend/<int:entry_id>/edit/", views.spend_edit, name="spend-edit"),
    path("spend/<int:entry_id>/delete/", views.spend_delete, name="spend-delete"),
    path("<int:pk>/results/", views.results_log, name="results-log"),
    path("<int:pk>/attachments/", attachment_views.attachment_add, name="attachment-add"),
    path("attachments/<int:attachment_id>/download/", attachment_views.attachment_download, name="attachment-download"),
    path("attachments/<int:attachment_id>/delete/", attachment_views.attachment_delete, name="attachment-delete"),
    path("imports/", import_views.import_list, name="import-list"),
    path("imports/new/", import_views.import_upload, name="import-upload"),
    path("imports/<int:pk>/", import_views.import_detail, name="import-detail"),
    path("imports/<int:pk>/map/", import_views.import_map, name="import-map"),
    path("imports/<int:pk>/start/", import_views.import_start, name="import-start"),
    path("imports/<int:pk>/progress/", import_views.import_progress, name="import-progress"),
]
