"""Words of a catalogue search: the abbreviations used at PST desks, place short names, and the
query normaliser that turns what a visitor types into search terms and a year.

The tables are plain data, meant to be extended. Abbreviations are the ones BPS staff and
visitors write for the publication series (*DDA* = *Dalam Angka*, *KCDA* = *Kecamatan Dalam
Angka*, *Statda* = *Statistik Daerah* …), the surveys and censuses behind them (*Susenas*,
*Sakernas*, *Podes*, *SP*/*ST*/*SE*), and the common short names of provinces (*Kalbar*,
*Jateng*, *Babel* …). A survey may stand for the series built from it: *Susenas* also finds
*Kesejahteraan Rakyat* titles, *Sakernas* *Ketenagakerjaan* ones. English words of the series'
titles (*in figures*, *regency*, *poverty* …) find the Indonesian titles.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

MAX_QUERY_CHARS = 200  # longer input is cut: no title needs more, and it bounds the work
SHORTHAND_CUTOFF = 85  # fuzz.ratio from which a word of 4+ letters is a mistyped abbreviation

# One word written short → the word in titles (applied to titles and queries alike).
WORDS: dict[str, str] = {
    "kab": "kabupaten",
    "kec": "kecamatan",
    "kel": "kelurahan",
    "prov": "provinsi",
    "propinsi": "provinsi",
    "kep": "kepulauan",
    "dlm": "dalam",
    "dl": "dalam",
    "stat": "statistik",
    "tw": "triwulan",
    "indo": "indonesia",
    "naker": "ketenagakerjaan",
    "survey": "survei",
}

# Abbreviation → the phrases it may stand for in titles (queries only). A term matches a title
# when any one phrase does; the abbreviation itself is always tried too.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "dda": ("dalam angka",),
    "kda": ("kabupaten dalam angka", "kota dalam angka"),
    "pda": ("provinsi dalam angka",),
    "kcda": ("kecamatan dalam angka",),
    "kecda": ("kecamatan dalam angka",),
    "statda": ("statistik daerah",),
    "statdakec": ("statistik daerah kecamatan",),
    "pdrb": ("produk domestik regional bruto",),
    "pdb": ("produk domestik bruto",),
    "ipm": ("indeks pembangunan manusia",),
    "ikr": ("indikator kesejahteraan rakyat",),
    "kesra": ("kesejahteraan rakyat",),
    "statkesra": ("statistik kesejahteraan rakyat",),
    "podes": ("potensi desa",),
    "ntp": ("nilai tukar petani",),
    "ntn": ("nilai tukar nelayan",),
    "ihk": ("indeks harga konsumen",),
    "ikk": ("indeks kemahalan konstruksi",),
    "tpk": ("tingkat penghunian kamar",),
    "ibs": ("industri besar sedang",),
    "lu": ("lapangan usaha",),
    "susenas": ("survei sosial ekonomi nasional", "kesejahteraan rakyat"),
    "sakernas": ("survei angkatan kerja nasional", "ketenagakerjaan", "angkatan kerja"),
    "sp": ("sensus penduduk",),
    "st": ("sensus pertanian",),
    "se": ("sensus ekonomi",),
}

# English words of the common series' titles (BPS publishes "Kendal Regency in Figures" for
# "Kabupaten Kendal Dalam Angka") → the Indonesian title words (queries only, like the above).
ENGLISH: dict[str, tuple[str, ...]] = {
    "figures": ("dalam angka",),
    "figure": ("dalam angka",),
    "regency": ("kabupaten",),
    "municipality": ("kota",),
    "city": ("kota",),
    "district": ("kecamatan",),
    "subdistrict": ("kecamatan",),
    "village": ("desa",),
    "villages": ("desa",),
    "province": ("provinsi",),
    "statistics": ("statistik",),
    "statistical": ("statistik",),
    "regional": ("daerah",),
    "population": ("penduduk",),
    "poverty": ("kemiskinan",),
    "welfare": ("kesejahteraan",),
    "indicators": ("indikator",),
    "indicator": ("indikator",),
    "people": ("rakyat",),
    "grdp": ("produk domestik regional bruto",),
    "gdp": ("produk domestik bruto",),
    "hdi": ("indeks pembangunan manusia",),
    "expenditure": ("pengeluaran",),
    "industry": ("lapangan usaha",),
    "potential": ("potensi",),
    "labor": ("ketenagakerjaan",),
    "labour": ("ketenagakerjaan",),
    "employment": ("ketenagakerjaan",),
    "inflation": ("inflasi",),
    "agriculture": ("pertanian",),
    "education": ("pendidikan",),
    "health": ("kesehatan",),
}

# Short names of provinces (and of Bangka Selatan, "Basel") → the name in titles and domains.
PLACES: dict[str, str] = {
    "sumut": "sumatera utara",
    "sumbar": "sumatera barat",
    "sumsel": "sumatera selatan",
    "kepri": "kepulauan riau",
    "babel": "bangka belitung",
    "basel": "bangka selatan",
    "dki": "jakarta",
    "jabar": "jawa barat",
    "jateng": "jawa tengah",
    "jatim": "jawa timur",
    "diy": "yogyakarta",
    "jogja": "yogyakarta",
    "yogya": "yogyakarta",
    "ntb": "nusa tenggara barat",
    "ntt": "nusa tenggara timur",
    "kalbar": "kalimantan barat",
    "kalteng": "kalimantan tengah",
    "kalsel": "kalimantan selatan",
    "kaltim": "kalimantan timur",
    "kaltara": "kalimantan utara",
    "sulut": "sulawesi utara",
    "sulteng": "sulawesi tengah",
    "sulsel": "sulawesi selatan",
    "sultra": "sulawesi tenggara",
    "sulbar": "sulawesi barat",
    "malut": "maluku utara",
    "pabar": "papua barat",
}

# Function words: carry no meaning in titles or queries.
STOPWORDS = frozenset(
    {"di", "dan", "ke", "dari", "yang", "untuk", "atau", "serta", "dengan", "pada", "the", "of",
     "and", "in", "for", "tahun", "by", "year"}
)  # fmt: skip
# Words of a request around the title ("cari buku ... dong"): dropped from queries only.
REQUEST_WORDS = frozenset(
    {"cari", "carikan", "mencari", "buku", "publikasi", "minta", "mohon", "tolong", "saya", "aku",
     "mau", "ingin", "butuh", "perlu", "ada", "apa", "tentang", "data", "edisi", "terbaru",
     "terbit", "bps", "pdf", "softcopy", "file", "unduh", "download", "baca", "dong", "ya", "kak",
     "pak", "bu", "min", "thn", "th"}
)  # fmt: skip
# Words of place names that say nothing on their own about where ("Kalimantan *Barat*").
GENERIC_PLACE_WORDS = frozenset(
    {"kabupaten", "kota", "kecamatan", "provinsi", "kepulauan", "pulau", "barat", "timur",
     "utara", "selatan", "tengah", "tenggara", "daya", "laut", "raya", "jaya", "baru", "besar",
     "kecil", "hulu", "hilir", "ilir", "ulu", "sungai", "air", "dua", "lima", "puluh", "simpang",
     "muara", "teluk", "tanjung", "batu", "gunung", "bukit", "tanah", "pesisir", "pantai",
     "pusat", "induk"}
)  # fmt: skip


@dataclass(frozen=True)
class Query:
    """A parsed query. ``terms``: each term is a tuple of alternatives, each alternative a tuple
    of title words (``dda`` → ``(("dda",), ("dalam", "angka"))``). ``year``: the year asked
    for, or ``None``."""

    terms: tuple[tuple[tuple[str, ...], ...], ...]
    year: int | None


def tokens(text: str) -> list[str]:
    """Words of ``text``: accents and emoji dropped, lower case, split at anything that is not
    a letter or digit and between letters and digits (``ST2023`` → ``st``, ``2023``)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z]+|[0-9]+", folded)


def is_year(word: str) -> bool:
    """True for a four-digit year 1900–2099."""
    return len(word) == 4 and word.isdigit() and 1900 <= int(word) <= 2099


def title_words(text: str) -> list[str]:
    """Words of a title for matching: :func:`tokens` spelled out (:data:`WORDS`), without
    years, stopwords and single letters."""
    out = []
    for word in tokens(text):
        word = WORDS.get(word, word)
        if not (is_year(word) or word in STOPWORDS or (len(word) < 2 and not word.isdigit())):
            out.append(word)
    return out


def title_years(text: str) -> list[int]:
    """The years written in ``text``, in order."""
    return [int(word) for word in tokens(text) if is_year(word)]


def parse_query(text: str, years: range = range(0)) -> Query:
    """Turn what a visitor typed into a :class:`Query`.

    The text is cut at :data:`MAX_QUERY_CHARS` characters. The last four-digit year in it is
    the year asked for; failing one, a two-digit number ``YY`` is the year ``20YY`` when that
    year is in ``years`` (the years of the catalogue: "dda ketapang 23" asks for 2023).
    Abbreviations and place short names, also mistyped (``stada``, ``pods``), become their
    alternatives; stopwords and request words are dropped. Never raises on any string (an
    emoji-only query has no terms).
    """
    words = tokens(text[:MAX_QUERY_CHARS])
    four = [int(w) for w in words if is_year(w)]
    year = four[-1] if four else None
    if year is None:
        two = [2000 + int(w) for w in words if len(w) == 2 and w.isdigit()]
        year = next((y for y in reversed(two) if y in years), None)
    terms: dict[tuple[tuple[str, ...], ...], None] = {}
    for word in words:
        if is_year(word) or (word.isdigit() and len(word) == 2 and 2000 + int(word) == year):
            continue
        term = _term(WORDS.get(word, word))
        if term:
            terms[term] = None
    return Query(tuple(terms), year)


def _term(word: str) -> tuple[tuple[str, ...], ...]:
    if word in STOPWORDS or word in REQUEST_WORDS or (len(word) < 2 and not word.isdigit()):
        return ()
    phrases = _shorthand(word)
    alternatives = [(word,)] + [tuple(title_words(phrase)) for phrase in phrases]
    return tuple(dict.fromkeys(alternatives))


def _shorthand(word: str) -> tuple[str, ...]:
    """The phrases of the abbreviation or place short name ``word`` is, or was meant to be
    (``stada`` → *statistik daerah*); ``()`` for other words."""
    if word in PLACES:
        return (PLACES[word],)
    if word in ENGLISH:
        return ENGLISH[word]
    if word in ABBREVIATIONS or len(word) < 4:
        return ABBREVIATIONS.get(word, ())
    near = process.extractOne(
        word, [*ABBREVIATIONS, *PLACES], scorer=fuzz.ratio, score_cutoff=SHORTHAND_CUTOFF
    )
    return _shorthand(near[0]) if near else ()
