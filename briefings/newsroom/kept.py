"""Pictures chosen in a form that failed to save, kept for the next try.

A browser cannot put a file back into a file input, so when the story form
comes back with an error the picture chosen for a figure would have to be
chosen again. Instead the upload is kept in the cache for KEEP_SECONDS under
an unguessable key, signed into a hidden field; the next submission brings
the key and gets the picture back (it is checked and cleaned again on save).
"""

import uuid

from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

KEEP_SECONDS = 60 * 60
KEEP_MAX_BYTES = 20 * 1024 * 1024  # larger uploads are not kept
SALT = "briefings.kept-upload"


def keep(upload) -> str:
    """Keep `upload`; return the token that brings it back ("" if too large)."""
    if upload.size > KEEP_MAX_BYTES:
        return ""
    key = uuid.uuid4().hex
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    cache.set(
        f"{SALT}:{key}",
        (upload.name, upload.content_type, content),
        KEEP_SECONDS,
    )
    return signing.dumps(key, salt=SALT)


def restore(token: str):
    """The upload kept under `token`, as a new upload; None if gone or forged."""
    try:
        key = signing.loads(token, salt=SALT, max_age=KEEP_SECONDS)
    except signing.BadSignature:
        return None
    kept = cache.get(f"{SALT}:{key}")
    if kept is None:
        return None
    name, content_type, content = kept
    return SimpleUploadedFile(name, content, content_type)
