"""Organizer screens of field work: each capability registers its own (canvass/<capability>/admin.py).

Importing them here is what registers them: Django's admin autodiscovery imports canvass.admin.
"""

from django.contrib import admin

from canvass.campaigns import admin as campaigns_admin
from canvass.field import admin as field_admin
from canvass.sync import admin as sync_admin
from canvass.turfs import admin as turfs_admin

# The admin opens on the organizer's campaigns: canvass's index extends fieldops's
# (canvass/templates/admin/canvass/index.html), so fieldops needs no import of canvass.
admin.site.index_template = "admin/canvass/index.html"

__all__ = ["campaigns_admin", "field_admin", "sync_admin", "turfs_admin"]
