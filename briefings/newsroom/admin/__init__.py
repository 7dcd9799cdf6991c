"""The newsroom's admins, one module per domain; importing this registers them.

stories (stories, authors, workflow events, preview links), tags, consent,
newsletter (subscribers, Storyboard editions), search (Search Trends), jobs
(failed tasks); common holds what they share.
"""

from briefings.newsroom.admin import (  # noqa: F401
    consent,
    jobs,
    newsletter,
    search,
    stories,
    tags,
)
