"""Text as the classifier and the slot readers see it: case-folded, informal words spelled out,
punctuation gone.

The expansions are the abbreviations PST visitors use in chat (``sy mw minta dt`` → ``saya mau
minta data``); forms of address (``min``, ``kak``, ``gan``) carry no meaning and are dropped.
"""

from __future__ import annotations

import re

INFORMAL = {
    "sy": "saya", "sya": "saya", "aku": "saya", "ak": "saya", "gue": "saya", "gw": "saya",
    "mw": "mau", "mo": "mau", "pengen": "ingin", "pingin": "ingin", "pgn": "ingin",
    "dgn": "dengan", "dg": "dengan", "sm": "sama", "ama": "sama",
    "tdk": "tidak", "tak": "tidak", "gak": "tidak", "ga": "tidak", "gk": "tidak", "g": "tidak",
    "nggak": "tidak", "ngga": "tidak", "nggk": "tidak", "enggak": "tidak", "engga": "tidak",
    "ndak": "tidak", "kagak": "tidak", "ngak": "tidak",
    "blm": "belum", "blum": "belum", "belom": "belum",
    "sdh": "sudah", "udh": "sudah", "udah": "sudah", "dah": "sudah", "uda": "sudah",
    "yg": "yang", "utk": "untuk", "untk": "untuk", "buat": "untuk", "dr": "dari", "dri": "dari",
    "dl": "dulu", "dlu": "dulu", "jg": "juga", "aja": "saja", "aj": "saja", "sj": "saja",
    "brp": "berapa", "brapa": "berapa", "gmn": "bagaimana", "gimana": "bagaimana",
    "gmana": "bagaimana", "bgmn": "bagaimana", "knp": "kenapa", "napa": "kenapa",
    "dmn": "dimana", "dmana": "dimana", "kpn": "kapan", "tlg": "tolong", "tolongin": "tolong",
    "krn": "karena", "karna": "karena", "bs": "bisa", "bsa": "bisa", "dpt": "dapat",
    "tny": "tanya", "nanya": "tanya", "tanyain": "tanya", "trs": "terus", "lg": "lagi",
    "th": "tahun", "thn": "tahun", "kab": "kabupaten", "kec": "kecamatan", "kel": "kelurahan",
    "dt": "data", "dta": "data", "datanya": "data", "bln": "bulan", "hr": "hari",
    "mksh": "terima kasih", "makasih": "terima kasih", "makasi": "terima kasih",
    "makaseh": "terima kasih", "mks": "terima kasih", "trims": "terima kasih",
    "trimakasih": "terima kasih", "terimakasih": "terima kasih", "trmksh": "terima kasih",
    "tks": "terima kasih", "thx": "thanks", "tq": "thanks", "ty": "thanks", "tengkyu": "thanks",
    "pls": "please", "plz": "please", "u": "you", "ur": "your", "dont": "do not",
    "bhs": "bahasa", "perpus": "perpustakaan", "perpust": "perpustakaan",
    "komplen": "komplain", "complain": "komplain", "ok": "oke", "okey": "oke", "okay": "oke",
    "okee": "oke", "iyaa": "iya", "iye": "iya", "yoi": "iya", "yup": "iya", "yups": "iya",
    "hp": "telepon", "telp": "telepon", "tlp": "telepon", "no": "no", "nomer": "nomor",
    # More chat shorthand, and regional words: Javanese (nggih, pinten, sampean), Sundanese,
    # Makassar and Kalimantan particles (ji, mi, bah).
    "nda": "tidak", "nd": "tidak", "tida": "tidak", "gausah": "tidak usah",
    "gajadi": "tidak jadi", "gajd": "tidak jadi", "gpp": "tidak apa apa",
    "nggih": "ya", "njih": "ya", "enggih": "ya", "inggih": "iya", "pinten": "berapa",
    "sampean": "anda", "panjenengan": "anda", "sampeyan": "anda",
    "klo": "kalau", "kalo": "kalau", "klu": "kalau", "kl": "kalau", "bgt": "banget",
    "bnyk": "banyak", "byk": "banyak", "jln": "jalan", "mhn": "mohon", "mhsw": "mahasiswa",
    "ttg": "tentang", "tntg": "tentang", "sbg": "sebagai", "hrs": "harus", "bw": "bawa",
    "tgl": "tanggal", "jml": "jumlah", "jmlh": "jumlah", "pnddk": "penduduk",
    "kmrn": "kemarin", "kmarin": "kemarin", "kemaren": "kemarin", "bsk": "besok",
    "skrg": "sekarang", "skrang": "sekarang", "sblm": "sebelum", "sesudah": "setelah",
    "lbh": "lebih", "sampe": "sampai", "dapet": "dapat", "pake": "pakai",
    "liat": "lihat", "nyari": "cari", "nyariin": "cari", "kasi": "kasih", "ksh": "kasih",
    "sdgkan": "sedangkan", "wc": "toilet", "tp": "tapi", "tpi": "tapi", "krna": "karena",
    "asslmkm": "assalamualaikum", "aslmkm": "assalamualaikum", "ass": "assalamualaikum",
    "askum": "assalamualaikum", "asw": "assalamualaikum", "mikum": "assalamualaikum",
    "assalamualaikom": "assalamualaikum", "asalamualaikum": "assalamualaikum",
    "assalamuallaikum": "assalamualaikum", "assalammualaikum": "assalamualaikum",
}  # fmt: skip
ADDRESS = {"min", "mimin", "kak", "ka", "kakak", "gan", "agan", "bang", "bro", "sis", "mas",
           "mbak", "mba", "pak", "bu", "bapak", "ibu", "om", "dong", "deh", "sih", "ya", "yah",
           "nih", "kok", "lho", "loh", "kah", "wkwk", "hehe", "bah", "ji", "mi", "nak", "dik",
           "dek", "adek", "mang", "cik", "bund", "bun", "gih", "toh", "pun", "wkwkwk",
           "hehehe", "hihi"}  # fmt: skip
EMOJI = {"👍": " iya ", "👌": " oke ", "🙏": " tolong ", "👎": " tidak ", "👋": " halo ",
         "⭐": " bintang ", "😡": " kecewa ", "😠": " kecewa ", "😤": " kecewa "}  # fmt: skip
_NOT_WORD = re.compile(r"[^\w\s]|_")


def normalize(text: str, keep_address: bool = False) -> str:
    """``text`` case-folded with informal words expanded and punctuation removed.

    Forms of address and particles (``min``, ``kak``, ``deh``, a trailing ``ya``) are dropped
    unless ``keep_address`` or unless nothing else is left (``ya`` alone is an answer).
    Folded hands alone read as thanks and a lone question mark as confusion.
    """
    if "🙏" in text and not _NOT_WORD.sub("", text.replace("🙏", "")).strip():
        return "terima kasih"  # folded hands alone close a chat; in a sentence they say please
    for emoji, word in EMOJI.items():
        text = text.replace(emoji, word)
    words = _NOT_WORD.sub(" ", text.casefold().replace("'", "")).split()
    if not words and "?" in text:
        return "bingung"  # "?" or "??" alone: the visitor is lost
    expanded = " ".join(INFORMAL.get(w, w) for w in words).split()
    if keep_address:
        return " ".join(expanded)
    kept = [w for w in expanded if w not in ADDRESS]
    return " ".join(kept or expanded)
