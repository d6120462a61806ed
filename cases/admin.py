"""Admin for configuration only: the themes teams tag needs with. Cases themselves hold child
data and are read only through the audited views."""

from django.contrib import admin

from .models import Theme


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name_sv", "name_en", "code", "active", "order"]
    list_editable = ["active", "order"]
    search_fields = ["name_sv", "name_en", "code"]
