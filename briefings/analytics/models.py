"""Read counts: per story per day and hour, and distinct readers."""

from django.db import models

from briefings.stories.models import Article


class StoryDay(models.Model):
    """Reads of a story on one day: page views, and unique readers among those
    who accepted analytics cookies."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    readers = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["article", "day"], name="unique_story_day")
        ]

    def __str__(self):
        return f"{self.article} on {self.day}"


class StoryHour(models.Model):
    """Page views of a story in one hour (UTC), for "Most read" and the charts."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="hours")
    hour = models.DateTimeField()
    views = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "hour"], name="unique_story_hour"
            )
        ]
        indexes = [models.Index(fields=["hour"], name="story_hour_idx")]

    def __str__(self):
        return f"{self.article} at {self.hour:%Y-%m-%d %H}:00"


class StoryReader(models.Model):
    """A reader (by a hash of their analytics cookie) seen on a story that day."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reader = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "day", "reader"], name="unique_story_reader"
            )
        ]

    def __str__(self):
        return f"{self.reader[:8]} on {self.article_id}, {self.day}"
