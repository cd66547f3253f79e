from django.apps import AppConfig


class FieldopsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fieldops"
    verbose_name = "Organization and people"
