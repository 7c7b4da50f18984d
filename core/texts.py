"""What the bot says, one catalogue per language (``core/locales/<lang>.yaml``).

Indonesian (``id``) is the default and the reference: every key exists there, and the other
catalogues must have the same keys and the same ``{placeholders}`` (a test checks this) —
except ``staff_*`` texts, which go to PST staff and exist in Indonesian only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LOCALES = Path(__file__).with_name("locales")
DEFAULT_LANG = "id"


class Texts:
    """The catalogues, keyed by language code then text key."""

    def __init__(self, catalogues: dict[str, dict[str, str]]) -> None:
        self.catalogues = catalogues

    @classmethod
    def load(cls, folder: Path = LOCALES) -> Texts:
        """Read every ``*.yaml`` catalogue in ``folder``."""
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ten times faster
        return cls({p.stem: yaml.load(p.read_text("utf-8"), loader) for p in folder.glob("*.yaml")})

    @property
    def languages(self) -> list[str]:
        """Language codes available, the default first."""
        return sorted(self.catalogues, key=lambda code: (code != DEFAULT_LANG, code))

    def get(self, lang: str, key: str, **values: Any) -> str:
        """Return text ``key`` in ``lang`` (falling back to Indonesian) with ``values`` filled in.

        Raises:
            KeyError: no catalogue has ``key`` (a programming error, caught by the tests).
        """
        catalogue = self.catalogues.get(lang, self.catalogues[DEFAULT_LANG])
        text = catalogue.get(key) or self.catalogues[DEFAULT_LANG][key]
        return text.format(**values) if values else text
