"""Stored revisions of figures from before the image library (0020) name
their picture by its file (`image`), a field figures no longer have (0022):
restoring one brought the figure back without its picture. Each such
revision now also names the library picture 0020 made of that file, so a
restore brings the picture back. Revisions that name one already, and files
the library no longer holds, are left as they are."""

import json

from django.db import migrations

BATCH = 500


def name_library_pictures(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Version = apps.get_model("reversion", "Version")
    Image = apps.get_model("briefings", "Image")
    db = schema_editor.connection.alias
    figure_type = (
        ContentType.objects.using(db)
        .filter(app_label="briefings", model="figure")
        .first()
    )
    if figure_type is None:
        return
    versions = Version.objects.using(db).filter(
        content_type=figure_type, format="json", serialized_data__contains='"image"'
    )
    pictures = {}  # file name -> library image id, or None
    changed = []
    for version in versions.order_by("pk").iterator(chunk_size=BATCH):
        rows = json.loads(version.serialized_data)
        edited = False
        for row in rows:
            fields = row.get("fields", {})
            name = fields.get("image")
            if not name or fields.get("library_image"):
                continue
            if name not in pictures:
                pictures[name] = (
                    Image.objects.using(db)
                    .filter(file=name)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                    .first()
                )
            if pictures[name] is not None:
                fields["library_image"] = pictures[name]
                edited = True
        if edited:
            version.serialized_data = json.dumps(rows)
            changed.append(version)
        if len(changed) >= BATCH:
            Version.objects.using(db).bulk_update(changed, ["serialized_data"])
            changed = []
    Version.objects.using(db).bulk_update(changed, ["serialized_data"])


class Migration(migrations.Migration):
    dependencies = [
        ("briefings", "0022_remove_figure_picture_fields"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("reversion", "0002_add_index_on_version_for_content_type_and_db"),
    ]

    operations = [
        migrations.RunPython(name_library_pictures, migrations.RunPython.noop),
    ]
