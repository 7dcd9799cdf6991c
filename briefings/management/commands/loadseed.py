"""manage.py loadseed: import scraped news pages as structured stories."""

import json
import re
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from briefings.importing.importer import (
    CREATED,
    FAILED,
    OUTCOMES,
    UPDATED,
    ImportResult,
    refresh_planner_statistics,
)
from briefings.importing.seedrun import RunOptions, outcomes
from briefings.stories.models import ArticleStatus

PROGRESS_MIN_FILES = 20
WARNING_INDENT = " " * 10  # under the file's name on its line
# Control characters (C0 but tab, DEL, C1: U+009B starts a terminal escape
# sequence) and bidirectional overrides never reach the terminal.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` without what could rewrite or reorder the terminal's output."""
    return _TERMINAL_UNSAFE.sub("", text)


# After writing this many stories, the database's planner statistics are renewed.
ANALYZE_MIN_STORIES = 50


class Command(BaseCommand):
    help = (
        "Import scraped news pages (the seed format) as stories. PATH may be files "
        "or folders (every *.txt in a folder, sorted by name); default: seeds/."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", metavar="PATH")
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and report, write nothing."
        )
        parser.add_argument(
            "--format",
            choices=["text", "json"],
            default="text",
            help="json: one JSON array describing every file.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace stories that editors changed since their import.",
        )
        parser.add_argument(
            "--status",
            choices=ArticleStatus.values,
            default=ArticleStatus.PUBLISHED,
            help="Status of the imported stories (default: published).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes that read, parse and write files, each file in its "
            "own transaction (default: one per core). 1 writes here while a "
            "process parses ahead; 0 does everything here.",
        )

    def handle(self, **options):
        entries = list(self.entries(options["paths"] or [None]))
        run = RunOptions(
            status=options["status"],
            force=options["force"],
            dry_run=options["dry_run"],
            as_json=options["format"] == "json",
        )
        results = outcomes(entries, run, workers=options["workers"])
        if options["format"] == "json":
            results = self.report_json(results)
        else:
            results = self.report_text(results, len(entries), options)
        written = sum(result.outcome in (CREATED, UPDATED) for result in results)
        if written >= ANALYZE_MIN_STORIES:
            refresh_planner_statistics()
        failed = sum(result.outcome == FAILED for result in results)
        if failed:
            raise CommandError(f"{failed} of {len(results)} seed file(s) failed.")

    def entries(self, paths):
        """Yield (path or None, shown name, problem) for every file named.

        A symbolic link that leads out of the folder it was found in (or, for
        a file named on the command line, out of that file's folder) is
        refused before anything is read from it.
        """
        for given in paths:
            if given is None:
                folder, shown = Path(settings.BASE_DIR) / "seeds", "seeds"
            else:
                folder, shown = Path(given), given.rstrip("/") or "/"
            if folder.is_dir():
                files = sorted(p for p in folder.glob("*.txt") if p.is_file())
                if not files:
                    yield None, shown, "no .txt files in this folder"
                for path in files:
                    yield self.checked(path, folder, f"{shown}/{path.name}")
            elif folder.exists():
                yield self.checked(folder, folder.parent, shown)
            else:
                yield None, shown, "no such file or folder"

    @staticmethod
    def checked(path, root, shown):
        """(path, shown, "") or, for a link out of `root`, (None, shown, why)."""
        if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
            return (
                None,
                shown,
                (
                    "a symbolic link to a file outside the folder given; refused "
                    "(nothing was read from it)"
                ),
            )
        return path, shown, ""

    def report_text(self, results, total, options):
        show_bar = total >= PROGRESS_MIN_FILES and sys.stderr.isatty()
        bar = tqdm(total=total, unit="file", disable=not show_bar, leave=False)
        done = []
        for result in results:
            done.append(ImportResult(result.source, result.outcome))
            bar.update()
            line = self.line(result)
            if result.outcome == FAILED:
                bar.clear()
                self.stderr.write(line)
            elif options["verbosity"] >= 1:
                bar.clear()
                self.stdout.write(line)
                for warning in result.warnings:
                    self.stdout.write(f"{WARNING_INDENT}{terminal_safe(warning)}")
        bar.close()
        counts = {o: sum(r.outcome == o for r in done) for o in OUTCOMES}
        if options["dry_run"]:
            summary = (
                f"Dry run: {len(done) - counts[FAILED]} parsed, "
                f"{counts[FAILED]} failed; nothing was written."
            )
        else:
            summary = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES) + "."
        style = self.style.ERROR if counts[FAILED] else self.style.SUCCESS
        self.stdout.write(style(summary))
        return done

    def line(self, result):
        styles = {
            "created": self.style.SUCCESS,
            "updated": self.style.SUCCESS,
            "skipped": self.style.WARNING,
            "failed": self.style.ERROR,
        }
        text = f"{result.outcome:<9} {result.source}"
        if result.outcome == FAILED:
            text += f": {result.message}"
        elif result.message:
            text += f" ({result.message})"
        elif result.headline:
            text += f"  {result.headline}"
        return styles.get(result.outcome, str)(terminal_safe(text))

    def report_json(self, results):
        """Print one JSON array, an object per file, without holding them all."""
        done = []
        self.stdout.write("[")
        for index, result in enumerate(results):
            if result.outcome == FAILED:
                text = json.dumps({"source": result.source, "error": result.message})
            else:
                text = result.message
            self.stdout.write(("," if index else "") + text)
            done.append(ImportResult(result.source, result.outcome))
        self.stdout.write("]")
        return done
