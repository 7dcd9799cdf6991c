"""What the newsroom's admins share: capped counts, CSV downloads."""

import csv

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.utils.functional import cached_property

#: Rows the admin's lists count at most: beyond it they say "10,000" and page
#: no further (a count of a million stories, or of every story holding a
#: common word, is most of a second).
COUNT_LIMIT = 10_000


class CappedPaginator(Paginator):
    """Counts at most COUNT_LIMIT rows (SELECT COUNT(*) over a LIMITed subquery)."""

    @cached_property
    def count(self):
        return self.object_list.order_by()[:COUNT_LIMIT].count()


def csv_safe(value) -> str:
    """A cell no spreadsheet will run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_download(filename, header, rows) -> HttpResponse:
    """A CSV attachment of `header` and `rows`, every cell formula-safe."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([csv_safe(value) for value in header])
    writer.writerows([csv_safe(value) for value in row] for row in rows)
    return response
