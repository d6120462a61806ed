"""Only the regions' SIP deadlines are in the admin: plans hold identified child data, and
every read of it must go through the policy and the access log."""

from django.contrib import admin

from .models import RegionPlanSettings


@admin.register(RegionPlanSettings)
class RegionPlanSettingsAdmin(admin.ModelAdmin):
    list_display = ["region", "first_meeting_days"]
    autocomplete_fields = []
