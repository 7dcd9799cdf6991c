"""Small HTTP helpers shared by the packages."""

BOT_MARKERS = ("bot", "crawler", "spider", "slurp", "preview", "headless")


def is_bot(request) -> bool:
    """Whether the request says it comes from a crawler (not counted as a reader)."""
    agent = request.headers.get("user-agent", "").lower()
    return any(marker in agent for marker in BOT_MARKERS)
