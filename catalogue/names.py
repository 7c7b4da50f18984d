"""File names for publications as visitors see them."""

import re


def pdf_filename(title: str) -> str:
    """A safe, readable PDF file name from a publication title (ASCII letters, digits, dashes)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80].rstrip("-")
    return f"{slug or 'publikasi'}.pdf"
