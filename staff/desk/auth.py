"""Signing in to the desk, the signed-in account, and which offices it may see.

Passwords are hashed with werkzeug.security (scrypt); the session stores the account id and
name only, and every request loads the account again, so a removed account is out at once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from office.config import Office
from staff.desk import bp
from storage.models import StaffAccount

MIN_PASSWORD = 10  # characters; NIST SP 800-63B asks at least 8 of a memorised secret


@cache
def _no_account() -> str:
    """A hash checked when the name is unknown, so a wrong name takes as long as a wrong
    password (no telling which names exist)."""
    return generate_password_hash("no such account")


class LoginForm(FlaskForm):
    name = StringField("Nama pengguna", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Kata sandi", validators=[DataRequired(), Length(max=200)])


def service() -> Any:
    """The running PST Bot of this app (a :class:`bot.service.Service`)."""
    return current_app.extensions["pstbot"]


@bp.before_request
def load_staff() -> None:
    """Put the signed-in account (or None) in ``g.staff``."""
    g.staff = None
    staff_id = session.get("staff_id")
    if staff_id is None:
        return
    with service().db.transaction() as db:
        account = db.get(StaffAccount, staff_id)
    if account is None or account.name != session.get("staff_name"):
        session.clear()  # removed (or replaced) since signing in
        return
    g.staff = account


@bp.app_context_processor
def desk_globals() -> dict[str, Any]:
    return {"staff": g.get("staff")}


def login_required(view: Callable) -> Callable:
    """Send a visitor who is not signed in to the sign-in page, then back."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("staff") is None:
            return redirect(url_for("desk.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def offices() -> list[Office]:
    """The offices the signed-in account may see: its own, or every office for an admin."""
    pst = service().pst
    code = g.staff.office_code
    return list(pst.offices) if code is None else [pst.office(code)]


def chosen_office() -> Office:
    """The office named by the ``kantor`` query argument (default: the account's first one).

    Aborts with 403 when the account may not see it, 404 when there is no such office."""
    allowed = offices()
    code = request.values.get("kantor") or allowed[0].code
    for office in allowed:
        if office.code == code:
            return office
    if any(o.code == code for o in service().pst.offices):
        abort(403)
    abort(404)


def may_see(office_code: str) -> bool:
    """True when the signed-in account may see data of ``office_code``."""
    return g.staff.office_code in (None, office_code)


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with service().db.transaction() as db:
            account = db.scalars(
                select(StaffAccount).where(StaffAccount.name == form.name.data.strip())
            ).first()
        stored = account.password_hash if account else _no_account()
        if check_password_hash(stored, form.password.data) and account:
            session.clear()
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
            session["staff_id"], session["staff_name"] = account.id, account.name
            return redirect(_safe_next(request.args.get("next")))
        flash("Nama pengguna atau kata sandi salah.", "error")
    return render_template("desk/login.html", form=form), 200 if request.method == "GET" else 401


def _safe_next(target: str | None) -> str:
    """Only a path inside the desk: never an address elsewhere (an open redirect)."""
    if target and target.startswith("/desk/") and not target.startswith("//"):
        return target
    return url_for("desk.tickets")


@bp.post("/keluar")
def logout():
    session.clear()
    flash("Anda sudah keluar.", "info")
    return redirect(url_for("desk.login"))


@bp.get("/")
def home():
    return redirect(url_for("desk.tickets"))
