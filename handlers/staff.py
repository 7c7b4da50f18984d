"""Messages to the office's staff chat (``staff_chat_id`` in config.yaml, a Telegram group).

Staff read Indonesian, whatever the visitor's language.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from core.address import Address
from core.engine import Notice, Option, Reply, Turn
from core.privacy import mask_email, mask_phone
from office.config import Office

logger = logging.getLogger(__name__)


def notify(
    turn: Turn, office: Office, key: str, options: Sequence[Option] = (), **values: Any
) -> None:
    """Queue text ``key`` (with the visitor's guest-book details) to ``office``'s staff chat.

    Without a configured staff chat nothing is queued and a warning is logged: the ticket still
    exists and is listed for staff.
    """
    if office.staff_chat_id is None:
        logger.warning("office %s has no staff_chat_id: %s not posted", office.code, key)
        return
    v = turn.visitor
    text = turn.texts.get(
        "id",
        key,
        name=v.nama or "-",
        email=mask_email(v.email),  # staff see contacts with /kontak (audited)
        phone=mask_phone(v.telepon),
        channel=v.channel,
        **values,
    )
    reply = Reply(text, tuple(options))
    turn.notices.append(Notice(Address.staff(office.staff_chat_id), reply))
