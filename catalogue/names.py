"""File names for publications as visitors see them."""

import re


def pdf_filename(title: str) -> str:
    """A safe, readable PDF file name from a publication title (ASCII letters, digits, dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80].rstrip("-")
    return f"{slug or 'publikasi'}.pdf"


LABEL_MAX = 60  # characters of a result shown as a button or list line
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


def short_labels(titles: list[str], limit: int = LABEL_MAX) -> list[str]:
    """Labels of at most ``limit`` characters for titles shown side by side, that can be told
    apart. A long title is cut at its end when what tells it from the titles starting like it
    still shows; else in the middle, keeping its start and its end from the first word where
    it differs from them (the series, the years). A year cut away is added in brackets."""
    split = [title.split() for title in titles]
    labels = []
    for words in split:
        shared = [n for other in split if other != words and (n := _shared(words, other))]
        label = _cut(words, min(shared, default=0), limit)
        lost = [year for year in YEAR.findall(" ".join(words)) if year not in label]
        if lost:
            note = f" ({lost[-1]})"
            label = _cut(words, min(shared, default=0), limit - len(note)) + note
        labels.append(label)
    return labels


def _shared(words: list[str], other: list[str]) -> int:
    """How many leading words two titles share."""
    n = 0
    while n < min(len(words), len(other)) and words[n] == other[n]:
        n += 1
    return n


def _cut(words: list[str], differs: int, limit: int) -> str:
    """``words`` within ``limit`` characters, showing the word ``words[differs]``."""
    title = " ".join(words)
    if len(title) <= limit:
        return title
    end_cut = title[: limit - 1].rstrip() + "…"
    if len(" ".join(words[: differs + 1])) <= limit - 1:
        return end_cut
    return _middle_cut(words, min(differs, len(words) - 1), limit)


def _middle_cut(words: list[str], keep_from: int, limit: int) -> str:
    """Leading words, "…", then the end from ``words[keep_from]`` on, within two thirds of
    ``limit`` (fewer words when longer, more when there is room)."""
    room = limit * 2 // 3
    start = keep_from
    while start < len(words) - 1 and len(" ".join(words[start:])) > room:
        start += 1
    while start > 1 and len(" ".join(words[start - 1 :])) <= room:
        start -= 1
    tail = words[start:]
    head: list[str] = []
    for word in words[:start]:
        if len(" ".join([*head, word])) + len(" … ") + len(" ".join(tail)) > limit:
            break
        head.append(word)
    label = " ".join([*head, "…", *tail]) if head else "… " + " ".join(tail)
    return label if len(label) <= limit else label[: limit - 1] + "…"
