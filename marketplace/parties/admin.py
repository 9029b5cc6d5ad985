from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from marketplace.parties.models import Membership, Organisation, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name_zh", "name_en", "kind", "size", "uscc", "province", "is_holder", "is_licensee"]
    list_filter = ["kind", "size", "is_holder", "is_licensee", "province"]
    search_fields = ["name_zh", "name_en", "uscc", "slug"]
    inlines = [MembershipInline]


@admin.register(User)
class PlatformUserAdmin(UserAdmin):
    search_fields = ["email", "first_name", "last_name"]
    ordering = ["email"]
