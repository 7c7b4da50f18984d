"""Health at a glance for the operator (admin accounts only): the outbox — waiting, retrying
after an error, failed for good — the scheduler (its lease and last runs, as ``/healthz``
reports them) and the database."""

from __future__ import annotations

import datetime as dt

from flask import abort, g, render_template
from sqlalchemy import func, select, text

from core import lease
from staff.desk import bp
from staff.desk.auth import login_required, service
from storage.models import Outbox, utcnow


@bp.get("/sehat")
@login_required
def health():
    if g.staff.office_code is not None:
        abort(403)  # the outbox and the scheduler belong to the whole deployment
    db = service().db
    now = utcnow()
    with db.transaction() as session:
        pending = Outbox.status == "pending"
        counts = {
            "Menunggu dikirim": session.scalar(
                select(func.count()).where(pending, Outbox.attempts == 0)
            ),
            "Dicoba ulang setelah gagal": session.scalar(
                select(func.count()).where(pending, Outbox.attempts > 0)
            ),
            "Gagal permanen": session.scalar(select(func.count()).where(Outbox.status == "failed")),
            "Terkirim 24 jam terakhir": session.scalar(
                select(func.count()).where(
                    Outbox.status == "sent", Outbox.sent_at >= now - dt.timedelta(days=1)
                )
            ),
        }
        failures = session.scalars(
            select(Outbox).where(Outbox.last_error.is_not(None)).order_by(Outbox.id.desc()).limit(5)
        ).all()
        version = session.scalar(text("SELECT version_num FROM alembic_version"))
    return render_template(
        "desk/health.html",
        counts=counts,
        failures=failures,
        scheduler=lease.health(db)["scheduler"],
        backend=db.engine.dialect.name,
        version=version,
    )
