"""django-tasks' database backend (the task queue), under names the admin shows in the
user's language. Its own module: `core.apps` must hold one AppConfig only, or Django would
not know which one is the core app's."""

from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class BackgroundTasksConfig(TasksAppConfig):
    """The package's own name is English only."""

    verbose_name = _("Background tasks")  # type: ignore[assignment]  # lazy, as Django allows


# django-tasks marks its model's names for translation; this catalog translates them.
THIRD_PARTY_NAMES = (_("Task Result"), _("Task Results"))
