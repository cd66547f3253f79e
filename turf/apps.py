from django.apps import AppConfig


class TurfConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "turf"
    verbose_name = "Geography: districts, doors and people"
