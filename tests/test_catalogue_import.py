"""Catalogue import on a real database (SQLite and PostgreSQL): WebAPI list JSON, CSV, JSONL,
the shipped catalogue, WebAPI sync against a fake WebAPI, and the ``pstbot catalogue`` CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from catalogue.importer import CatalogueError, Skipped, import_file, load_default, sync
from storage.db import Database
from storage.models import Publication
from tests.fakes.webapi import FakeWebApi

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures") / "webapi"
KEY = "0123456789abcdef0123456789abcdef"
OFFICES = ("6106", "3324", "7601", "1905", "6571")
CSV_HEADER = (
    "domain,pub_id,title,abstract,issn,kat_no,pub_no,sch_date,rl_date,updt_date,cover,pdf,size,"
    "subject,printed_copy"
)
LIST_FIELDS = (
    "pub_id", "title", "abstract", "issn", "sch_date", "rl_date", "updt_date", "cover", "pdf",
    "size",
)  # fmt: skip


def publications(db: Database, **where: object) -> list[Publication]:
    with db.transaction() as session:
        query = select(Publication).filter_by(**where).order_by(Publication.pub_id)
        return list(session.scalars(query))


def pinrang_items() -> list[dict]:
    """The five real Pinrang publications of the list and detail fixtures, as list items."""
    listed = json.loads((FIXTURES / "publication_list.json").read_text())["data"][1]
    detail = json.loads((FIXTURES / "publication_detail.json").read_text())["data"]
    related = [{k: r.get(k) for k in LIST_FIELDS} for r in detail["related"]]
    return [*listed, {k: detail.get(k) for k in LIST_FIELDS}, *related]


def write_csv(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([CSV_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


# --- WebAPI list JSON ------------------------------------------------------------------------


def test_webapi_list_json_is_imported_with_the_domain_of_its_links(db):
    counts = import_file(db, FIXTURES / "publication_list.json")

    assert (counts.inserted, counts.updated, counts.unchanged, counts.skipped) == (1, 0, 0, [])
    [pub] = publications(db)
    assert pub.domain == "7315"  # pinrangkab.bps.go.id in domains.jsonl
    assert pub.pub_id == "3d0c77d11cecb84a1a5b6f95"
    assert pub.title.startswith("Kabupaten Pinrang Dalam Angka 2020, Penyediaan Data")
    assert pub.abstract.startswith("Kabupaten Pinrang Dalam Angka 2020 merupakan")
    assert pub.issn == "978-602-6927-44-6"
    assert (pub.sch_date, pub.rl_date, pub.updt_date) == (dt.date(2020, 2, 28),) * 2 + (None,)
    assert pub.year == 2020
    assert pub.size == "13.46 MB"
    assert pub.pdf_url.startswith("https://pinrangkab.bps.go.id/publication/downloadapi.html")
    assert pub.cover_url.startswith("https://pinrangkab.bps.go.id/publication/getImageCover")
    assert (pub.verified, pub.printed_copy, pub.provenance) == (True, False, "webapi")
    assert pub.source == {"type": "webapi", "file": "publication_list.json"}


def test_webapi_list_json_takes_the_domain_given(db):
    counts = import_file(db, FIXTURES / "publication_list.json", domain="6106")

    assert counts.inserted == 1
    assert [p.domain for p in publications(db)] == ["6106"]


def test_webapi_list_without_links_needs_a_domain(db, tmp_path):
    payload = json.loads((FIXTURES / "publication_list.json").read_text())
    payload["data"][1][0].update(pdf=None, cover=None)
    path = tmp_path / "list.json"
    path.write_text(json.dumps(payload))

    counts = import_file(db, path)

    assert counts.inserted == 0
    assert [(s.where, s.reason) for s in counts.skipped] == [
        ("page 1 item 1", "domain unknown: give the domain code")
    ]
    assert publications(db) == []


def test_list_not_available_is_a_clear_error(db):
    with pytest.raises(CatalogueError, match="list-not-available") as caught:
        import_file(db, FIXTURES / "publication_list_not_available.json")
    assert "publication_list_not_available.json" in str(caught.value)
    assert publications(db) == []


def test_error_body_is_a_clear_error_with_its_message(db):
    with pytest.raises(CatalogueError, match="There is something wrong!"):
        import_file(db, FIXTURES / "error.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"status": "OK", "data": {"pub_id": "x"}}', "expected data = "),
        ('{"status": "OK", "data": [{"page": 1}, "x"]}', "not a list of objects"),
        ('{"status": "OK", "data": [{"page": "one"}, []]}', "bad page"),
    ],
)
def test_json_that_is_not_a_publication_list_is_refused(db, tmp_path, text, message):
    path = tmp_path / "odd.json"
    path.write_text(text)
    with pytest.raises(CatalogueError, match=message):
        import_file(db, path)


# --- CSV -------------------------------------------------------------------------------------


def test_csv_rows_are_imported_and_bad_rows_skipped_with_reasons(db, tmp_path):
    path = write_csv(
        tmp_path / "katalog.csv",
        "6106,,Kabupaten Ketapang Dalam Angka 2023,,,,,,2023-02-28,,,,12 MB,,ya",
        '3324,k-1,"Statistik Daerah Kabupaten Kendal, 2024",Ringkas,2089-1234,1101002.3324,'
        "33240.2401,2024-09-01,2024-09-30,,,https://kendalkab.bps.go.id/x.pdf,,Gambaran Umum,0",
        "7601,m-1,Kabupaten Majene Dalam Angka 2024,,,,,,30-02-2024,,,,,,1",
        "761,m-2,Kabupaten Majene Dalam Angka 2023,,,,,,,,,,,,1",
        "1905,b-1,Statistik Daerah Kabupaten Bangka Selatan 2024,,,,,,,,,,,,mungkin",
    )

    counts = import_file(db, path)

    assert (counts.inserted, counts.updated, counts.unchanged) == (2, 0, 0)
    assert [(s.where, s.reason) for s in counts.skipped] == [
        ("katalog.csv:4", "rl_date is not a date YYYY-MM-DD: '30-02-2024'"),
        ("katalog.csv:5", "domain must be a 4-digit BPS domain code, not '761'"),
        (
            "katalog.csv:6",
            "printed_copy must be 1/0, true/false, ya/tidak or yes/no, not 'mungkin'",
        ),
    ]
    kendal, ketapang = publications(db)
    assert ketapang.pub_id.startswith("sha1-") and len(ketapang.pub_id) == 25
    assert (ketapang.domain, ketapang.year, ketapang.printed_copy) == ("6106", 2023, True)
    assert ketapang.rl_date == dt.date(2023, 2, 28)
    assert kendal.title == "Statistik Daerah Kabupaten Kendal, 2024"
    assert (kendal.issn, kendal.kat_no, kendal.pub_no) == (
        "2089-1234",
        "1101002.3324",
        "33240.2401",
    )
    assert (kendal.subject, kendal.printed_copy, kendal.abstract) == (
        "Gambaran Umum",
        False,
        "Ringkas",
    )
    assert kendal.pdf_url == "https://kendalkab.bps.go.id/x.pdf"
    assert (kendal.provenance, kendal.source) == ("csv", {"type": "csv", "file": "katalog.csv"})


def test_csv_with_an_unknown_column_is_refused(db, tmp_path):
    path = tmp_path / "katalog.csv"
    path.write_text("domain,title,judul\n6106,Kabupaten Ketapang Dalam Angka 2023,x\n")
    with pytest.raises(CatalogueError, match="unknown: judul"):
        import_file(db, path)


def test_csv_with_only_domain_and_title_is_enough(db, tmp_path):
    path = tmp_path / "min.csv"
    path.write_text(
        "title,domain\nKota Tarakan Dalam Angka 2024,6571\nKota Tarakan,6571,2023\n",
        encoding="utf-8",
    )

    counts = import_file(db, path)

    assert counts.inserted == 1
    assert counts.skipped == [Skipped("min.csv:3", "more fields than columns")]
    [pub] = publications(db)
    assert (pub.domain, pub.title, pub.year, pub.printed_copy) == (
        "6571",
        "Kota Tarakan Dalam Angka 2024",
        2024,
        False,
    )


def test_a_file_of_another_kind_is_refused(db, tmp_path):
    path = tmp_path / "katalog.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(CatalogueError, match="unknown file type"):
        import_file(db, path)


# --- idempotence -----------------------------------------------------------------------------


def test_reimport_counts_unchanged_then_updated(db, tmp_path):
    rows = (
        "6106,k-1,Kabupaten Ketapang Dalam Angka 2023,,,,,,,,,,,,1",
        "6106,k-2,Statistik Daerah Kabupaten Ketapang 2023,,,,,,,,,,,,0",
    )
    path = write_csv(tmp_path / "k.csv", *rows)
    first = import_file(db, path)
    again = import_file(db, path)
    write_csv(path, rows[0], rows[1].replace("2023", "2024"))
    changed = import_file(db, path)

    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    assert str(changed) == "0 inserted, 1 updated, 1 unchanged, 0 skipped"
    titles = {p.pub_id: (p.title, p.year) for p in publications(db)}
    assert titles["k-2"] == ("Statistik Daerah Kabupaten Ketapang 2024", 2024)


def test_a_key_twice_in_one_file_keeps_the_first(db, tmp_path):
    path = write_csv(
        tmp_path / "dup.csv",
        "6106,k-1,Kabupaten Ketapang Dalam Angka 2023,,,,,,,,,,,,",
        "6106,k-1,Kabupaten Ketapang Dalam Angka 2024,,,,,,,,,,,,",
    )
    counts = import_file(db, path)

    assert counts.inserted == 1
    assert [s.reason for s in counts.skipped] == ["the same domain and pub_id again"]
    assert [p.title for p in publications(db)] == ["Kabupaten Ketapang Dalam Angka 2023"]


def test_webapi_import_keeps_the_shelf_flag_set_by_csv(db, tmp_path):
    path = write_csv(
        tmp_path / "rak.csv", "7315,3d0c77d11cecb84a1a5b6f95,Pinrang Dalam Angka 2020,,,,,,,,,,,,ya"
    )
    import_file(db, path)

    counts = import_file(db, FIXTURES / "publication_list.json")

    assert (counts.inserted, counts.updated) == (0, 1)
    [pub] = publications(db)
    assert pub.title.startswith("Kabupaten Pinrang Dalam Angka 2020")
    assert pub.printed_copy is True


def test_a_column_a_source_does_not_carry_is_left_alone(db, tmp_path):
    import_file(db, FIXTURES / "publication_list.json")
    path = tmp_path / "rak.csv"
    path.write_text(
        "domain,pub_id,title,printed_copy\n"
        "7315,3d0c77d11cecb84a1a5b6f95,Kabupaten Pinrang Dalam Angka 2020,ya\n"
    )

    counts = import_file(db, path)

    assert counts.updated == 1
    [pub] = publications(db)
    assert (pub.title, pub.printed_copy) == ("Kabupaten Pinrang Dalam Angka 2020", True)
    assert (pub.issn, pub.size, pub.rl_date) == (
        "978-602-6927-44-6",
        "13.46 MB",
        dt.date(2020, 2, 28),
    )
    assert pub.source == {"type": "csv", "file": "rak.csv"}


# --- JSONL and the shipped catalogue ---------------------------------------------------------


def test_jsonl_lines_are_imported_and_bad_lines_reported(db, tmp_path):
    path = tmp_path / "k.jsonl"
    good = {
        "domain": "6106",
        "title": "Kabupaten Ketapang Dalam Angka 2022",
        "pub_id": "d0ffaf5033de72781b582adc",
        "url": "https://ketapangkab.bps.go.id/publication/2022/02/25/x.html",
        "provenance_quality": "C_document_or_citation_on_web_page",
        "source": {"type": "web_page", "url": "https://example.org/"},
        "notes": "from a citation",
    }
    path.write_text(json.dumps(good) + "\n\n{oops\n[1]\n", encoding="utf-8")

    counts = import_file(db, path)

    assert counts.inserted == 1
    assert [(s.where, s.reason.split(":")[0]) for s in counts.skipped] == [
        ("k.jsonl:3", "not JSON"),
        ("k.jsonl:4", "not a JSON object"),
    ]
    [pub] = publications(db)
    assert (pub.year, pub.url, pub.provenance) == (2022, good["url"], good["provenance_quality"])
    assert pub.source == {**good["source"], "notes": "from a citation"}


def test_load_default_loads_real_and_modelled_records_once(db):
    first = load_default(db)
    again = load_default(db)

    shipped = (ROOT / "catalogue" / "data" / "publications.jsonl").read_text().splitlines()
    assert len(shipped) == 102
    assert [s.reason for s in first.skipped] == [
        "domain must be a 4-digit BPS domain code, not None"
    ]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted)
    rows = publications(db)
    real = [p for p in rows if p.verified]
    modelled = [p for p in rows if not p.verified]
    assert len(real) == 101
    assert len(rows) == first.inserted
    assert Counter(p.domain for p in modelled) == {
        "6106": 136, "3324": 134, "7601": 77, "1905": 77, "6571": 55,
    }  # fmt: skip
    for pub in modelled:
        assert pub.pub_id.startswith("model-") and pub.provenance == "modelled"
        assert (pub.issn, pub.sch_date, pub.rl_date, pub.updt_date) == (None,) * 4
        assert (pub.pdf_url, pub.url, pub.cover_url, pub.abstract) == (None,) * 4
        assert pub.printed_copy == ("Dalam Angka" in pub.title)
    ketapang_2022 = [p for p in rows if p.title == "Kabupaten Ketapang Dalam Angka 2022"]
    assert [(p.pub_id, p.verified) for p in ketapang_2022] == [("d0ffaf5033de72781b582adc", True)]
    samples = sorted((p.domain, p.local_file) for p in rows if p.local_file)
    assert samples == [
        ("1905", "samples/1905-kabupaten-bangka-selatan-dalam-angka-2025.pdf"),
        ("3324", "samples/3324-kabupaten-kendal-dalam-angka-2025.pdf"),
        ("6106", "samples/6106-kabupaten-ketapang-dalam-angka-2025.pdf"),
        ("6571", "samples/6571-kota-tarakan-dalam-angka-2025.pdf"),
        ("7601", "samples/7601-kabupaten-majene-dalam-angka-2025.pdf"),
    ]
    kecamatan = {p.title for p in modelled if p.domain == "7601" and p.year == 2024}
    assert "Kecamatan Tubo Sendana Dalam Angka 2024" in kecamatan
    # a real title is never duplicated by a modelled one
    tarakan_2022 = [p.title for p in rows if p.domain == "6571" and p.year == 2022]
    assert "Kota Tarakan Dalam Angka 2022" not in tarakan_2022
    assert "Kota Tarakan dalam Angka Tahun 2022" in tarakan_2022


# --- sync from the WebAPI --------------------------------------------------------------------


@pytest.fixture
def webapi() -> Iterator[FakeWebApi]:
    with FakeWebApi(KEY, {"7315": pinrang_items()}, per_page=2) as fake:
        yield fake


def test_sync_reads_every_page_with_the_key(db, webapi):
    counts = sync(db, "7315", KEY, f"{webapi.base_url}/v1/api")

    assert (counts.inserted, counts.updated, counts.unchanged, counts.skipped) == (5, 0, 0, [])
    assert webapi.requests == [("7315", 1, KEY), ("7315", 2, KEY), ("7315", 3, KEY)]
    rows = {p.pub_id: p for p in publications(db, domain="7315")}
    assert set(rows) == {item["pub_id"] for item in pinrang_items()}
    horti = rows["16ca58f4b3fc86fb0f585352"]
    assert (horti.title, horti.year) == (
        "Statistik Tanaman Hortikultura Kabupaten Pinrang 2023",
        2023,
    )
    assert horti.rl_date == dt.date(2023, 6, 16)
    assert horti.source == {
        "type": "webapi",
        "url": f"{webapi.base_url}/v1/api/list/model/publication/lang/ind/domain/7315/",
    }
    assert rows["a78f4d4f1c3548600cffcd29"].issn is None  # the WebAPI's "-"
    again = sync(db, "7315", KEY, f"{webapi.base_url}/v1/api")
    assert (again.inserted, again.unchanged) == (0, 5)


def test_sync_retries_a_failing_page(db, webapi):
    webapi.fail_next(503)

    counts = sync(db, "7315", KEY, f"{webapi.base_url}/v1/api", backoff=0.01)

    assert counts.inserted == 5
    assert [page for _, page, _ in webapi.requests] == [1, 1, 2, 3]


def test_sync_gives_up_after_four_attempts_without_showing_the_key(db, webapi):
    webapi.fail_next(503, times=4)

    with pytest.raises(CatalogueError, match="unreachable") as caught:
        sync(db, "7315", KEY, f"{webapi.base_url}/v1/api", backoff=0.01)

    assert len(webapi.requests) == 4
    assert KEY not in str(caught.value) and "/key/***/" in str(caught.value)
    assert publications(db) == []


def test_sync_with_a_wrong_key_reports_the_error(db, webapi):
    with pytest.raises(CatalogueError, match="Invalid key") as caught:
        sync(db, "7315", "wrong-key", f"{webapi.base_url}/v1/api")
    assert "wrong-key" not in str(caught.value)
    assert publications(db) == []


def test_sync_of_a_domain_without_list_is_a_clear_error(db, webapi):
    with pytest.raises(CatalogueError, match="list-not-available"):
        sync(db, "6106", KEY, f"{webapi.base_url}/v1/api")


@pytest.mark.parametrize(("domain", "key"), [("61", KEY), ("ketapang", KEY), ("6106", "")])
def test_sync_refuses_bad_arguments_before_any_request(db, webapi, domain, key):
    with pytest.raises(CatalogueError):
        sync(db, domain, key, f"{webapi.base_url}/v1/api")
    assert webapi.requests == []


# --- the pstbot catalogue commands -----------------------------------------------------------


@pytest.fixture
def cli_env(database_url: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "PSTBOT_CONFIG": str(ROOT / "config.yaml")}


def invoke(env: dict[str, str], *args: str):
    return CliRunner().invoke(main, ["catalogue", *args], env=env)


def test_cli_imports_and_searches(cli_env, tmp_path):
    data = shutil.copy(ROOT / "catalogue" / "data" / "publications.jsonl", tmp_path)

    imported = invoke(cli_env, "import", str(data))
    again = invoke(cli_env, "import", str(data))
    found = invoke(cli_env, "search", "dda", "ketapang", "22", "--json")
    listed = invoke(cli_env, "search", "pinrang hortikultura", "--limit", "2")
    elsewhere = invoke(cli_env, "search", "pinrang hortikultura", "--domain", "6106")

    assert imported.exit_code == 0, imported.output
    assert imported.stdout.strip() == "101 inserted, 0 updated, 0 unchanged, 1 skipped"
    assert "skipped publications.jsonl:101: domain must be" in imported.stderr
    assert again.stdout.strip() == "0 inserted, 0 updated, 101 unchanged, 1 skipped"
    hits = json.loads(found.stdout)
    assert hits[0]["title"] == "Kabupaten Ketapang Dalam Angka 2022"
    assert (hits[0]["domain"], hits[0]["pub_id"]) == ("6106", "d0ffaf5033de72781b582adc")
    assert 60 <= hits[0]["score"] <= 100
    lines = listed.stdout.splitlines()
    assert len(lines) == 3 and "Statistik Tanaman Hortikultura Kabupaten Pinrang" in lines[0]
    assert lines[-1] == "2 of 4 matches"
    assert (elsewhere.exit_code, elsewhere.stdout.strip()) == (0, "no good match")


def test_cli_import_of_an_error_body_fails_with_the_message(cli_env):
    result = invoke(cli_env, "import", str(FIXTURES / "error.json"))

    assert result.exit_code == 1
    assert "There is something wrong!" in result.stderr


def test_cli_sync_needs_the_key(cli_env):
    result = invoke({**cli_env, "BPS_WEBAPI_KEY": ""}, "sync", "--domain", "7315")

    assert result.exit_code == 2
    assert "BPS_WEBAPI_KEY" in result.stderr


def test_cli_sync_fetches_from_the_webapi(cli_env, webapi):
    env = {**cli_env, "BPS_WEBAPI_KEY": KEY, "BPS_WEBAPI_URL": f"{webapi.base_url}/v1/api"}

    result = invoke(env, "sync", "--domain", "7315")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "5 inserted, 0 updated, 0 unchanged, 0 skipped"
    assert len(webapi.requests) == 3
