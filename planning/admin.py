from django.contrib import admin

from planning.models import Channel, FiscalYear


@admin.register(FiscalYear)
class FiscalYearAdmin(admin.ModelAdmin):
    list_display = ["year", "start_date", "end_date"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "is_active"]
    list_filter = ["group", "is_active"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
