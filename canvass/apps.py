from django.apps import AppConfig


class CanvassConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "canvass"
    verbose_name = "Field work: campaigns, turfs, shifts and knocks"
