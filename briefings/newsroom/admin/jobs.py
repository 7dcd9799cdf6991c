"""Failed background tasks in the admin."""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.module_loading import import_string

from briefings.jobs.models import FailedTask


@admin.register(FailedTask)
class FailedTaskAdmin(admin.ModelAdmin):
    """Background tasks that failed after their retries, with the error.

    *Run again* queues the same task with the same arguments and removes the
    failure from this list.
    """

    list_display = ["task_name", "error", "arguments", "finished_at"]
    list_filter = ["task_path"]
    ordering = ["-finished_at"]
    fields = ["task_path", "arguments", "enqueued_at", "finished_at", "error_details"]
    readonly_fields = fields
    actions = ["run_again"]

    def get_queryset(self, request):
        return super().get_queryset(request).failed()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Error")
    def error(self, obj):
        lines = [line for line in obj.traceback.strip().splitlines() if line.strip()]
        return lines[-1][:200] if lines else obj.exception_class_path

    @admin.display(description="Arguments")
    def arguments(self, obj):
        return str(obj.args_kwargs)[:200]

    @admin.display(description="Error and traceback")
    def error_details(self, obj):
        return format_html("<pre>{}</pre>", obj.traceback)

    @admin.action(description="Run the selected again", permissions=["change"])
    def run_again(self, request, queryset):
        count = 0
        for failed in queryset:
            kwargs = dict(failed.args_kwargs["kwargs"])
            kwargs.pop("attempt", None)
            try:
                import_string(failed.task_path).enqueue(
                    *failed.args_kwargs["args"], **kwargs
                )
            except ImportError:
                self.message_user(
                    request, f"{failed.task_path} no longer exists.", messages.ERROR
                )
                continue
            failed.delete()
            count += 1
        self.message_user(request, f"{count} task(s) queued again.")
