"""Search Trends: what readers search for, counted per day and per reader."""

from django.db import models


class SearchTerm(models.Model):
    """A normalised search term. Who searched is never stored."""

    term = models.CharField(max_length=100, unique=True)
    hidden = models.BooleanField(
        default=False,
        help_text="Hidden terms never appear in Search Trends, however often searched.",
    )
    approved = models.BooleanField(
        default=False,
        help_text="With BRIEFINGS_TRENDS_REQUIRE_APPROVAL on, only approved terms "
        "appear in Search Trends.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term


class SearchTermDay(models.Model):
    """How many searches for a term there were on one day, by how many readers."""

    term = models.ForeignKey(SearchTerm, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    searches = models.PositiveIntegerField(default=0)
    readers = models.PositiveIntegerField(
        default=0, help_text="Different readers who searched the term that day."
    )

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "day"], name="unique_search_term_day"
            )
        ]
        indexes = [models.Index(fields=["day"], name="search_term_day_idx")]

    def __str__(self):
        return f"{self.term} on {self.day}: {self.searches}"


class SearchTermReader(models.Model):
    """One reader who searched a term on a day, as a keyed hash of their
    address and browser that changes every day: readers are counted apart,
    and nobody can be recognised from it, nor followed from day to day. Kept
    only for today and yesterday (see search.prune_search_terms)."""

    term = models.ForeignKey(
        SearchTerm, on_delete=models.CASCADE, related_name="readers"
    )
    day = models.DateField()
    reader = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["term", "day", "reader"], name="unique_search_term_reader"
            )
        ]
        indexes = [models.Index(fields=["day"], name="search_term_reader_day_idx")]

    def __str__(self):
        return f"{self.term} on {self.day}"
