"""config.yaml: the shipped file is faithful and valid; a broken one is refused by key and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import load_settings
from office.config import ConfigError, Layanan, Mode, load_config

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_has_the_five_offices_of_the_standards(pst):
    assert [o.code for o in pst.offices] == ["6106", "3324", "7601", "1905", "6571"]
    zones = {o.code: o.zone_abbr for o in pst.offices}
    assert zones == {"6106": "WIB", "3324": "WIB", "7601": "WITA", "1905": "WIB", "6571": "WITA"}
    ketapang = {Layanan.PERPUSTAKAAN, Layanan.PERMINTAAN_DATA, Layanan.KONSULTASI}  # steps 3-5
    assert set(pst.office("6106").layanan) == ketapang
    assert set(pst.office("1905").layanan) == {Layanan.KONSULTASI}
    for office in pst.offices:
        channels = pst.complaint_channels(office)
        assert sum("lapor.go.id" in c.alamat for c in channels) >= 1
        assert office.jam_layanan["senin"].buka.hour == 8


def test_every_standard_line_in_config_is_in_the_published_standard(pst):
    """Spot-check the transcription: distinctive phrases appear in docs/standards verbatim."""
    kendal = (ROOT / "docs/standards/kendal-perpustakaan.txt").read_text()
    walk_in = pst.office("3324").layanan[Layanan.PERPUSTAKAAN].persyaratan.for_mode(Mode.LANGSUNG)
    assert "(KTP, SIM, Paspor, dan lain-lain)" in walk_in[1] and "(KTP, SIM, Paspor" in kendal
    bangka = pst.office("1905").layanan[Layanan.KONSULTASI]
    assert any("7 (tujuh) hari" in step for step in bangka.prosedur.online)
    assert any("3 (tiga) hari kerja" in t for t in bangka.waktu.online)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_bad_time_zone_is_reported_with_key_and_line(tmp_path):
    path = _broken(tmp_path, "zona_waktu: Asia/Makassar", "zona_waktu: Asia/Tokyo")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"config.yaml:{_line_of(path, 'Asia/Tokyo')}: offices.2.zona_waktu:" in str(err.value)


def test_missing_key_and_bad_whatsapp_number_are_named(tmp_path):
    path = _broken(tmp_path, "    email: bps3324@bps.go.id\n", "")
    with pytest.raises(ConfigError, match=r"offices\.1\.email: Field required"):
        load_config(path)
    path = _broken(tmp_path, 'whatsapp: "+6289633243324"', 'whatsapp: "+62 12"')
    with pytest.raises(ConfigError, match=r"offices\.1\.whatsapp: .*not a valid phone number"):
        load_config(path)


def test_check_config_command(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["check-config", str(ROOT / "config.yaml")])
    assert ok.exit_code == 0 and "OK: 5 offices" in ok.output
    assert "7601  BPS Kabupaten Majene (WITA): perpustakaan" in ok.output
    path = _broken(
        tmp_path, 'jumat: {buka: "08:00", tutup: "16:00"}', 'jumat: {buka: "16:00", tutup: "08:00"}'
    )
    bad = runner.invoke(main, ["check-config", str(path)])
    assert bad.exit_code == 1
    assert f"config.yaml:{_line_of(path, 'jumat:')}: offices.0.jam_layanan.jumat:" in bad.output
    assert "tutup must be later than buka" in bad.output
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("offices: [\n")
    assert "not valid YAML" in runner.invoke(main, ["check-config", str(broken_yaml)]).output


def test_secrets_come_from_the_environment_and_are_checked():
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET is required"):
        load_settings(PSTBOT_CONFIG=str(ROOT / "config.yaml"), TELEGRAM_BOT_TOKEN="1:abc")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings(TELEGRAM_BOT_TOKEN="1:abc", TELEGRAM_WEBHOOK_SECRET="has spaces!")
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"):
        load_settings(TWILIO_ACCOUNT_SID="AC123")
    settings, _ = load_settings(PSTBOT_CONFIG=str(ROOT / "config.yaml"))
    assert not settings.telegram_enabled and not settings.whatsapp_enabled


def test_check_config_warns_per_office_served_on_whatsapp_without_window_templates(
    tmp_path, test_config
):
    runner = CliRunner()
    shipped = runner.invoke(main, ["check-config", str(ROOT / "config.yaml")])
    lines = shipped.output.splitlines()
    warnings = [line for line in lines if line.startswith("warning:") and "template" in line]
    # Offices with their own WhatsApp number (Kendal, Majene, Bangka Selatan, Tarakan).
    assert [w.split()[1] for w in warnings] == ["3324", "7601", "1905", "6571"]
    assert "jawaban_petugas" in warnings[0] and "undangan_penilaian" in warnings[0]
    assert "wait until the visitor writes again" in warnings[0]
    assert shipped.exit_code == 0
    unstaffed = [line for line in lines if "has no staff_chat_id" in line]
    assert len(unstaffed) == 5 and "not taken in the chat" in unstaffed[0]
    # The test offices have every template but the rating invitation: only that is named.
    configured = runner.invoke(main, ["check-config", str(test_config)]).output
    named = [w for w in configured.splitlines() if w.startswith("warning:")]  # staff chats set
    assert named and all(w.split(" for ")[1].startswith("undangan_penilaian:") for w in named)
    path = _broken(tmp_path, "staff_chat_id: null", "whatsapp_templates: {data_siap: HX12}")
    bad = runner.invoke(main, ["check-config", str(path)])
    assert bad.exit_code == 1 and "is not a Content SID" in bad.output
    path = _broken(tmp_path, "staff_chat_id: null", "whatsapp_templates: {jawaban: HX12}")
    assert "unknown class 'jawaban'" in runner.invoke(main, ["check-config", str(path)]).output
