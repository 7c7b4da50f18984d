"""Where a message goes: a chat on a channel, or a staff forum topic within a chat.

The outbox keeps an address as two columns, ``channel`` and ``chat_id``; a topic is written into
``chat_id`` as ``<chat>#<topic>``. Only this module writes and reads that form.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = "#"


@dataclass(frozen=True)
class Address:
    """``chat_id`` on ``channel``; with ``topic``, a forum topic of that chat (Telegram staff
    groups): a ticket number (that ticket's topic, created when first used) or a known
    ``message_thread_id`` (digits)."""

    channel: str
    chat_id: str
    topic: str | None = None

    @classmethod
    def of_ticket(cls, staff_chat_id: int | str, number: str) -> Address:
        """The staff topic of ticket ``number`` in the office's staff group (Telegram)."""
        return cls("telegram", str(staff_chat_id), number)

    @classmethod
    def staff(cls, staff_chat_id: int | str) -> Address:
        """An office's staff group itself (Telegram), outside any topic."""
        return cls("telegram", str(staff_chat_id))

    @classmethod
    def in_thread(cls, channel: str, chat_id: str, thread_id: int | None) -> Address:
        """The topic ``thread_id`` of a chat (the one a staff message came from), or the chat."""
        return cls(channel, chat_id, str(thread_id) if thread_id else None)

    @classmethod
    def parse(cls, channel: str, key: str) -> Address:
        """The address stored as ``key`` in the outbox's ``chat_id`` column."""
        chat_id, _, topic = key.partition(SEPARATOR)
        return cls(channel, chat_id, topic or None)

    @property
    def key(self) -> str:
        """The value of the outbox's ``chat_id`` column for this address."""
        return f"{self.chat_id}{SEPARATOR}{self.topic}" if self.topic else self.chat_id

    @property
    def thread_id(self) -> int | None:
        """The known forum topic (``message_thread_id``), if the topic is one."""
        return int(self.topic) if self.topic and self.topic.isdigit() else None

    @property
    def ticket(self) -> str | None:
        """The ticket whose staff topic this is, if the topic is a ticket number."""
        return self.topic if self.topic and not self.topic.isdigit() else None
