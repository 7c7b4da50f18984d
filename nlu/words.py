"""Answers that mean the same everywhere: yes and no, and the words visitors use for some
options ("wa aja" for "Lewat chat ini")."""

from __future__ import annotations

from nlu.normalize import normalize

YES = {"ya", "iya", "y", "oke", "sip", "sipp", "sippp", "siap", "setuju", "boleh", "lanjut",
       "lanjutkan", "betul", "benar", "bener", "yes", "yeah", "yep", "sure", "agree", "mau",
       "baik", "baiklah", "gas", "tentu"}  # fmt: skip
NO = {"tidak", "belum", "jangan", "no", "nope", "nah", "ogah", "bukan", "not"}
# Thanks after a no ("no thank you", "belum kak, makasih") keeps it a no.
THANKS = {"terima", "kasih", "thanks", "thank", "you"}
# After a no these make a judgement, not an answer: "tidak baik" is a rating of 1.
JUDGED = {"baik", "baiklah"}
FILLERS = {
    "saya",
    "kak",
    "min",
    "deh",
    "dong",
    "sih",
    "saja",
    "dulu",
    "sekali",
    "sudah",
    "ya",
    "please",
    "kakak",
    "gan",
    "pak",
    "bu",
}
# Option keys meaning yes or no, as the flows name them.
YES_KEYS = ("ya", "setuju", "kirim", "simpan", "lanjut")
NO_KEYS = ("tidak", "belum", "lewati")
# Words that choose an option whatever its label says (key → words).
SYNONYMS = {
    "chat": {"wa", "whatsapp", "chat", "telegram", "tele", "tg", "lewat chat", "lewat wa",
             "via wa", "lewat whatsapp", "via whatsapp", "chat ini", "di sini", "disini"},
    "email": {"email", "e mail", "surel", "lewat email", "via email", "imel"},
    "keduanya": {"keduanya", "dua duanya", "both", "semua"},
    "wa": {"wa", "whatsapp", "nomor ini", "nomor wa", "pakai nomor ini", "nomor yang ini"},
}  # fmt: skip


def yes_or_no(text: str) -> str | None:
    """ "ya" when ``text`` is a plain yes ("iya kak", "oke lanjut", "👍"), "tidak" for a plain no
    ("gak", "belum dulu", "no thank you"), None otherwise (also when yes and no are mixed)."""
    words = [w for w in normalize(text, keep_address=True).split() if w not in FILLERS]
    if not words and normalize(text) == "ya":
        return "ya"
    if words and all(w in YES for w in words):
        return "ya"
    if words and all(w in NO or w in YES or w in THANKS for w in words) and words[0] in NO:
        return None if JUDGED & set(words) else "tidak"
    return None


def option_for(text: str, keys: list[str]) -> str | None:
    """The option key among ``keys`` that ``text`` picks as a yes/no answer or by a synonym
    ("wa aja" → "chat"), or None."""
    answer = yes_or_no(text)
    wanted = YES_KEYS if answer == "ya" else NO_KEYS if answer == "tidak" else ()
    for key in wanted:
        if key in keys:
            return key
    said = " ".join(w for w in normalize(text, keep_address=True).split() if w not in FILLERS)
    for key in keys:
        if said in SYNONYMS.get(key, ()):
            return key
    return None
