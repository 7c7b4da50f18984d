"""The ``pstbot`` commands as a newcomer runs them: serve answers /healthz, chat talks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PSTBOT = str(Path(sys.executable).parent / "pstbot")
SECRETS = ("TELEGRAM_BOT_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "DATABASE_URL")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'pst.sqlite3'}"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_starts_without_tokens_and_answers_healthz(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [PSTBOT, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with proc:
        _check_healthz(proc, port)
    assert (tmp_path / "pst.sqlite3").exists()


def _check_healthz(proc: subprocess.Popen, port: int) -> None:
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.ConnectError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "pstbot serve did not come up in 30 s"
                time.sleep(0.2)
        assert response.status_code == 200
        health = response.json()
        assert health["status"] == "ok" and health["channels"] == []
        assert health["scheduler"]["alive"] is True and health["outbox"]["pending"] == 0
        # Channels without credentials have no webhook: nothing to call, nothing to leak.
        assert httpx.post(f"http://127.0.0.1:{port}/webhook/telegram", json={}).status_code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


def _serve_refused(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``pstbot serve`` expecting it to stop at start-up with exit status 2."""
    result = subprocess.run(
        [PSTBOT, "serve", "--port", str(_free_port())],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    return result


def test_serve_refuses_a_bad_config_naming_the_key(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text(
        (ROOT / "config.yaml").read_text().replace("zona_waktu: Asia/Jakarta", "zona_waktu: WIB", 1)
    )
    env = {**_env(tmp_path), "PSTBOT_CONFIG": str(bad)}
    result = _serve_refused(env)
    assert "offices.0.zona_waktu" in result.stderr and "config.yaml:" in result.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"DATABASE_URL": "nonsense:::"}, "DATABASE_URL is not a database URL"),
        (
            {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/pst"},
            "DATABASE_URL: cannot use postgresql+psycopg://nobody@127.0.0.1:1/pst",
        ),
        ({"holiday": "2026-13-45"}, "offices.0.libur_tambahan.0: Input should be a valid date"),
    ],
)
def test_start_up_problems_are_named_in_one_line(tmp_path, change, expected):
    env = {**_env(tmp_path), **{k: v for k, v in change.items() if k != "holiday"}}
    if "holiday" in change:
        bad = tmp_path / "config.yaml"
        text = (ROOT / "config.yaml").read_text()
        extra = f"staff_chat_id: null\n    libur_tambahan: [{change['holiday']}]"
        bad.write_text(text.replace("staff_chat_id: null", extra, 1))
        env["PSTBOT_CONFIG"] = str(bad)
    result = _serve_refused(env)
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_chat_walks_a_visitor_through_office_info_and_guest_book(tmp_path):
    lines = [
        "halo",
        "Kendal",
        "Info layanan",
        "Perpustakaan",
        "1",
        "3",
        "Buku tamu",
        "Setuju",
        "Siti Rahma",
        "siti@",
        "siti.rahma@example.com",
        "081234567890",
        "SMA Negeri 1 Kendal",
        "1",
        "1",
        "simpan",
    ]
    result = subprocess.run(
        [PSTBOT, "chat", "--user", "siti"],
        input="\n".join(lines) + "\n",
        env=_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Anda ingin dilayani oleh kantor BPS mana?" in out
    assert "Menu utama — BPS Kabupaten Kendal" in out
    assert "Perpustakaan — Kunjungan langsung" in out
    assert "Pengguna layanan mengisi buku tamu" in out
    assert "Alamat email itu tidak valid" in out
    assert "Terima kasih, Siti Rahma. Buku tamu Anda tersimpan" in out
    again = subprocess.run(
        [PSTBOT, "chat", "--user", "siti"],
        input="menu\nBuku tamu\n",
        env=_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Instansi: SMA Negeri 1 Kendal" in again.stdout  # remembered across runs


def test_web_workers_only_connect_after_pstbot_migrate(tmp_path):
    """A gunicorn worker (``bot.wsgi``) on a database nobody prepared refuses to start and says
    what to run; ``pstbot migrate`` prepares it once, then workers start without migrating."""
    env = _env(tmp_path)
    worker = [sys.executable, "-c", "import bot.wsgi"]
    refused = subprocess.run(worker, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "schema at revision none" in refused.stderr and "pstbot migrate" in refused.stderr
    done = subprocess.run(
        [PSTBOT, "migrate"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "database ready" in done.stdout
    started = subprocess.run(worker, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    assert "loaded the shipped publications" in done.stderr
    assert "loaded the shipped publications" not in started.stderr
    assert "newest revision" not in started.stderr
