"""A staff member using the web desk over real HTTP: signs in, reads pages, submits the forms
with the CSRF token of the page they are on — as a browser does."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from werkzeug.security import generate_password_hash

from office.config import Office
from office.workdays import next_opening
from storage.db import Database
from storage.models import StaffAccount

PASSWORD = "kata-sandi-petugas-123"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def add_staff(db: Database, name: str, office_code: str | None) -> None:
    """A desk account as ``pstbot staff add`` makes it, with :data:`PASSWORD`."""
    with db.transaction() as session:
        session.add(
            StaffAccount(
                name=name, office_code=office_code, password_hash=generate_password_hash(PASSWORD)
            )
        )


def open_moment(office: Office) -> dt.datetime:
    """A moment (aware, UTC) when ``office`` is open: now, or half an hour after it next opens
    — never in the past, so cookies the browser gets then have not expired."""
    now = dt.datetime.now(dt.UTC)
    opens = next_opening(office, now)
    return now if opens is None else (opens + dt.timedelta(minutes=30)).astimezone(dt.UTC)


class DeskUser:
    """One browser session on the desk of ``base_url``."""

    def __init__(self, base_url: str, name: str) -> None:
        self.name = name
        self.http = httpx.Client(base_url=base_url, follow_redirects=True, timeout=20)
        self.page = ""

    def get(self, path: str, **params) -> httpx.Response:
        response = self.http.get(path, params=params)
        self.page = response.text
        return response

    def token(self) -> str:
        """The CSRF token of the page last read."""
        return TOKEN.search(self.page)[1]

    def submit(self, action: str, data: dict | None = None, files: dict | None = None):
        """POST a form of the current page (its CSRF token added) and follow the redirect."""
        response = self.http.post(
            action, data={"csrf_token": self.token(), **(data or {})}, files=files
        )
        self.page = response.text
        return response

    def sign_in(self, password: str = PASSWORD) -> httpx.Response:
        self.get("/desk/masuk")
        return self.submit("/desk/masuk", {"name": self.name, "password": password})

    def flashes(self) -> list[str]:
        """The notes shown at the top of the current page."""
        return [m.strip() for m in re.findall(r'<p class="flash[^"]*"[^>]*>([^<]+)</p>', self.page)]

    def close(self) -> None:
        self.http.close()
