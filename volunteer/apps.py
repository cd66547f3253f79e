from django.apps import AppConfig


class VolunteerConfig(AppConfig):
    """The volunteer app: an offline-first web app at /app/ that talks to the public API only."""

    name = "volunteer"
    verbose_name = "Volunteer app"
