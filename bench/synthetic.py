"""Synthetic articles in the scraped seed format, for the benchmarks.

Deterministic for a given seed; each article is about the size of the real seed
(12 paragraphs, 2 subheadings, a hero and 2 body figures, 3 related headlines).
"""

import random
from datetime import datetime, timedelta
from pathlib import Path

from briefings.importing import seedformat

PEOPLE = [
    "Nikol Pashinyan",
    "Anna Hakobyan",
    "Javier Colomina",
    "Maria Lopez",
    "Kenji Sato",
    "Amara Okafor",
    "Lena Fischer",
    "Omar Haddad",
]
PLACES = [
    "Armenia",
    "Russia",
    "Azerbaijan",
    "France",
    "China",
    "Geneva",
    "Kenya",
    "Brazil",
    "Japan",
    "Yerevan",
    "Moscow",
    "Nairobi",
]
GROUPS = ["CSTO", "NATO", "ICC", "EU", "UN", "WHO", "IMF"]
REPORTERS = [
    "Louise Greenwood",
    "Tom Baker",
    "Priya Natarajan",
    "Ahmed Khan",
    "Sofia Rossi",
    "Daniel Kim",
]
VERBS = ["met", "criticised", "praised", "called on", "warned", "signed a deal with"]


def sentence(rng):
    who, where, group = rng.choice(PEOPLE), rng.choice(PLACES), rng.choice(GROUPS)
    return (
        f"Officials say {who} {rng.choice(VERBS)} leaders from {where} at the "
        f"{group} summit on {rng.choice(['Monday', 'Friday'])}, in a move analysts "
        f"called significant for {rng.choice(PLACES)}."
    )


def article(rng, n):
    when = datetime(2024, 1, 1, 8, 0) + timedelta(hours=7 * n)
    blocks = []
    figure_count = 0
    for index in range(12):
        blocks.append(seedformat.Paragraph(" ".join(sentence(rng) for _ in range(3))))
        if index in (3, 8):
            blocks.append(seedformat.Heading(f"{rng.choice(PLACES)} responds"))
        if index in (5, 10):
            figure_count += 1
            blocks.append(
                seedformat.Figure(
                    f"{rng.choice(PEOPLE)} speaks in {rng.choice(PLACES)}, "
                    f"picture {figure_count}.",
                    f"{rng.choice(PEOPLE)}/Reuters",
                )
            )
    return seedformat.ParsedArticle(
        headline=f"{rng.choice(PLACES)} and {rng.choice(PLACES)} talk trade, day {n}",
        authors=tuple(rng.sample(REPORTERS, rng.choice([1, 1, 2]))),
        dateline=rng.choice(["", "", "Yerevan", "Geneva"]),
        updated_at=when,
        hero=seedformat.Figure(
            f"Delegates gather for talks, day {n}.", "Agency Pool/PAN Photo/Reuters"
        ),
        blocks=tuple(blocks),
        related=tuple(
            f"{rng.choice(PLACES)} and {rng.choice(PLACES)} talk trade, "
            f"day {rng.randrange(max(n, 1))}"
            for _ in range(3)
        ),
    )


def generate(folder: Path, count: int, seed: int = 20240204):
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        text = seedformat.dump(article(rng, n))
        (folder / f"{n:05d}.txt").write_text(text, encoding="utf-8")
