"""Every admin of the briefings app, gathered for Django's admin autodiscovery.

The admins live with the newsroom (`briefings/newsroom/admin/`), the one
package that writes through the workflow rule."""

from briefings.newsroom import admin  # noqa: F401
