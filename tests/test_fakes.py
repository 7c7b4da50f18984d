"""The fakes, driven by the real clients exactly as the app drives them."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.fakes import FakeTelegram, FakeTwilio
from tests.fakes.telegram import Upload

TOKEN = "123456789:AAH-test_token_for_the_fake_server_x"
OTHER_TOKEN = "123456789:AAH-some_other_token_not_the_fake_y"
PRIVATE = 6281234567  # positive ids are private chats
FORUM = -1001234567890  # -100… ids are supergroups

SID = "AC" + "0123456789abcdef" * 2
AUTH = "f" * 32
SENDER = "whatsapp:+14155238886"
VISITOR = "whatsapp:+6281234567890"


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
def tw() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, AUTH, {SENDER}) as fake:
        yield fake


def with_bot(
    fake: FakeTelegram, body: Callable[[telegram.Bot], Awaitable[Any]], token: str = TOKEN
) -> Any:
    """Run ``body(bot)`` with a fresh Bot pointed at the fake, one Bot per ``asyncio.run``."""

    async def main() -> Any:
        async with telegram.Bot(
            token, base_url=f"{fake.base_url}/bot", base_file_url=f"{fake.base_url}/file/bot"
        ) as bot:
            return await body(bot)

    return asyncio.run(main())


@pytest.fixture
def client(tw: FakeTwilio) -> Iterator[Client]:
    yield from _client(tw, AUTH)


def _client(fake: FakeTwilio, token: str) -> Iterator[Client]:
    client = Client(SID, token)
    client.api.base_url = fake.base_url
    yield client
    client.http_client.session.close()  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- Telegram


def test_send_message_with_inline_keyboard_is_recorded(tg: FakeTelegram) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ya", callback_data="yes"),
                InlineKeyboardButton("Web", url="https://bps.go.id"),
            ]
        ]
    )

    async def body(bot: telegram.Bot) -> tuple[telegram.Message, telegram.Message]:
        first = await bot.send_message(PRIVATE, "Halo 👋", reply_markup=keyboard)
        second = await bot.send_message(PRIVATE, "Lagi")
        return first, second

    first, second = with_bot(tg, body)
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.type == "private" and first.from_user.is_bot and first.text == "Halo 👋"
    assert first.reply_markup == keyboard and second.reply_markup is None
    sent = tg.messages(PRIVATE)
    assert sent[0]["chat_id"] == PRIVATE
    assert sent[0]["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Ya", "callback_data": "yes"}, {"text": "Web", "url": "https://bps.go.id"}]
        ]
    }
    assert tg.texts(PRIVATE) == ["Halo 👋", "Lagi"] and tg.texts(str(PRIVATE)) == tg.texts(PRIVATE)
    assert [c.method for c in tg.calls()] == ["getMe", "sendMessage", "sendMessage"]
    assert all(c.ok for c in tg.calls())


def test_callback_data_is_limited_to_64_utf8_bytes(tg: FakeTelegram) -> None:
    def markup(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data=data)]])

    with_bot(tg, lambda bot: bot.send_message(PRIVATE, "ok", reply_markup=markup("a" * 64)))
    for data in ("a" * 65, "é" * 33):  # 33 characters but 66 bytes
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            with_bot(tg, lambda bot, d=data: bot.send_message(PRIVATE, "x", reply_markup=markup(d)))
    text_only = {"inline_keyboard": [[{"text": "no action"}]]}
    with pytest.raises(BadRequest, match=r"(?i)Text buttons are unallowed"):
        with_bot(tg, lambda bot: bot.send_message(PRIVATE, "x", reply_markup=text_only))
    assert len(tg.messages(PRIVATE)) == 1
    assert [c.ok for c in tg.calls("sendMessage")] == [True, False, False, False]


def test_text_length_and_emptiness(tg: FakeTelegram) -> None:
    with_bot(tg, lambda bot: bot.send_message(PRIVATE, "x" * 4096))
    with pytest.raises(BadRequest, match=r"(?i)Message is too long"):
        with_bot(tg, lambda bot: bot.send_message(PRIVATE, "x" * 4097))
    with pytest.raises(BadRequest, match=r"(?i)Message text is empty"):
        with_bot(tg, lambda bot: bot.send_message(PRIVATE, "   "))
    failed = tg.calls("sendMessage")[-1]
    assert not failed.ok and failed.response == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }


def test_html_parse_mode_is_validated(tg: FakeTelegram) -> None:
    message = with_bot(
        tg, lambda bot: bot.send_message(PRIVATE, "<b>Tabel</b> &amp; data", parse_mode="HTML")
    )
    assert message.text == "Tabel & data"
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "br"'):
        with_bot(tg, lambda bot: bot.send_message(PRIVATE, "a<br>b", parse_mode="HTML"))
    with pytest.raises(BadRequest, match=r"(?i)Can't find end tag"):
        with_bot(tg, lambda bot: bot.send_message(PRIVATE, "<i>a", parse_mode="HTML"))


def test_wrong_token_and_unknown_method(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        with_bot(tg, lambda bot: bot.get_me(), token=OTHER_TOKEN)
    unauthorized = httpx.post(f"{tg.base_url}/bot{OTHER_TOKEN}/getMe")
    assert (unauthorized.status_code, unauthorized.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    unknown = httpx.post(f"{tg.base_url}/bot{TOKEN}/sendTelepathy", data={"chat_id": "1"})
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    # Method names are case-insensitive; JSON bodies work like form bodies.
    sent = httpx.post(
        f"{tg.base_url}/bot{TOKEN}/SENDMESSAGE", json={"chat_id": PRIVATE, "text": "j"}
    )
    assert sent.json()["result"]["text"] == "j" and tg.texts(PRIVATE) == ["j"]
    no_chat = httpx.post(f"{tg.base_url}/bot{TOKEN}/sendMessage", data={"text": "x"})
    assert no_chat.json()["description"] == "Bad Request: chat_id is empty"


def test_concurrent_requests_get_distinct_message_ids(tg: FakeTelegram) -> None:
    url = f"{tg.base_url}/bot{TOKEN}/sendMessage"
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda i: httpx.post(url, data={"chat_id": PRIVATE, "text": str(i)}), range(40)
            )
        )
    assert sorted(a.json()["result"]["message_id"] for a in answers) == list(range(1, 41))
    assert sorted(tg.texts(PRIVATE), key=int) == [str(i) for i in range(40)]


def test_injected_429_raises_retry_after(tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    tg.fail_next("sendMessage", retry_after=7)

    async def body(bot: telegram.Bot) -> telegram.Message:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(PRIVATE, "satu")
        assert caught.value.retry_after == dtm.timedelta(seconds=7)
        return await bot.send_message(PRIVATE, "dua")

    assert with_bot(tg, body).message_id == 1
    failed, retried = tg.calls("sendMessage")
    assert not failed.ok and failed.status == 429
    assert failed.response["parameters"] == {"retry_after": 7}
    assert failed.response["description"] == "Too Many Requests: retry after 7"
    assert retried.ok and tg.texts(PRIVATE) == ["dua"]


def test_injected_server_error(tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
        with_bot(tg, lambda bot: bot.send_message(PRIVATE, "x"))
    tg.fail_next("sendMessage", status=403)
    with pytest.raises(telegram.error.Forbidden, match=r"(?i)bot was blocked by the user"):
        with_bot(tg, lambda bot: bot.send_message(PRIVATE, "x"))
    assert tg.messages(PRIVATE) == []


def test_send_document_with_bytes(tg: FakeTelegram) -> None:
    pdf = b"%PDF-1.4 tabel inflasi"

    async def body(bot: telegram.Bot) -> tuple[telegram.Message, telegram.Message]:
        uploaded = await bot.send_document(PRIVATE, pdf, filename="inflasi.pdf", caption="Tabel")
        again = await bot.send_document(PRIVATE, uploaded.document.file_id)
        with pytest.raises(BadRequest, match=r"(?i)Wrong file identifier"):
            await bot.send_document(PRIVATE, "BQACAgUAAxkBAAImadeup")
        with pytest.raises(BadRequest, match=r"(?i)Message caption is too long"):
            await bot.send_document(PRIVATE, pdf, filename="x.pdf", caption="c" * 1025)
        return uploaded, again

    uploaded, again = with_bot(tg, body)
    assert uploaded.document.file_name == "inflasi.pdf" and uploaded.caption == "Tabel"
    assert uploaded.document.file_size == len(pdf)
    assert again.document.file_id == uploaded.document.file_id
    first, second = tg.messages(PRIVATE)
    assert first["document"] == Upload("inflasi.pdf", pdf, "application/pdf")
    assert first["caption"] == "Tabel"
    assert second["document"] == uploaded.document.file_id


def test_get_file_downloads_what_a_user_posted(tg: FakeTelegram) -> None:
    pdf = b"%PDF-1.7 surat permintaan data"
    document = tg.add_file(pdf, "Surat Permintaan.PDF")
    assert set(document) == {"file_id", "file_unique_id", "file_name", "mime_type", "file_size"}
    assert (document["file_name"], document["mime_type"], document["file_size"]) == (
        "Surat Permintaan.PDF",
        "application/pdf",
        len(pdf),
    )
    update = telegram.Update.de_json(
        {
            "update_id": 10,
            "message": {
                "message_id": 5,
                "date": 1_700_000_000,
                "chat": {"id": FORUM, "type": "supergroup", "title": "PST"},
                "from": {"id": 77, "is_bot": False, "first_name": "Staf"},
                "document": document,
            },
        },
        None,
    )
    assert update.message.document.file_id == document["file_id"]

    async def body(bot: telegram.Bot) -> tuple[telegram.File, telegram.File, bytearray]:
        first = await bot.get_file(update.message.document.file_id)
        again = await bot.get_file(document["file_id"])
        return first, again, await first.download_as_bytearray()

    first, again, content = with_bot(tg, body)
    assert content == pdf
    assert first.file_path == f"{tg.base_url}/file/bot{TOKEN}/documents/file_0.pdf"
    assert again.file_path == first.file_path and first.file_size == len(pdf)
    assert first.file_unique_id == document["file_unique_id"]
    assert tg.calls("getFile")[0].response["result"] == {
        "file_id": document["file_id"],
        "file_unique_id": document["file_unique_id"],
        "file_size": len(pdf),
        "file_path": "documents/file_0.pdf",
    }


def test_get_file_of_a_document_the_bot_sent(tg: FakeTelegram) -> None:
    xlsx = b"PK\x03\x04 tabel"

    async def body(bot: telegram.Bot) -> bytearray:
        sent = await bot.send_document(PRIVATE, xlsx, filename="tabel.xlsx")
        by_url = await bot.send_document(PRIVATE, "https://bps.go.id/x.pdf")
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file(by_url.document.file_id)  # the fake never fetches URLs
        file = await bot.get_file(sent.document.file_id)
        assert file.file_path.endswith("/documents/file_0.xlsx")
        return await file.download_as_bytearray()

    assert with_bot(tg, body) == xlsx


def test_get_file_errors(tg: FakeTelegram) -> None:
    big = tg.add_file(b"x" * (20 * 1024 * 1024 + 1), "besar.pdf")

    async def body(bot: telegram.Bot) -> None:
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("BQACAgUAAxkBAAImadeup")
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await bot.get_file(big["file_id"])

    with_bot(tg, body)
    with pytest.raises(ValueError, match="never empty"):
        tg.add_file(b"", "kosong.pdf")


def test_file_download_route(tg: FakeTelegram) -> None:
    document = tg.add_file(b"%PDF-1.4 x", "a.pdf")
    path = httpx.post(
        f"{tg.base_url}/bot{TOKEN}/getFile", data={"file_id": document["file_id"]}
    ).json()["result"]["file_path"]
    ok = httpx.get(f"{tg.base_url}/file/bot{TOKEN}/{path}")
    assert (ok.status_code, ok.content, ok.headers["content-type"]) == (
        200,
        b"%PDF-1.4 x",
        "application/pdf",
    )
    wrong_token = httpx.get(f"{tg.base_url}/file/bot{OTHER_TOKEN}/{path}")
    assert (wrong_token.status_code, wrong_token.json()["description"]) == (401, "Unauthorized")
    unknown = httpx.get(f"{tg.base_url}/file/bot{TOKEN}/documents/file_9.pdf")
    assert (unknown.status_code, unknown.json()["description"]) == (404, "Not Found")


def test_ptb_default_file_url_is_the_real_server(tg: FakeTelegram) -> None:
    """Without ``base_file_url`` PTB would download from api.telegram.org: the app must pass it."""
    document = tg.add_file(b"%PDF", "a.pdf")

    async def main() -> telegram.File:
        async with telegram.Bot(TOKEN, base_url=f"{tg.base_url}/bot") as bot:
            return await bot.get_file(document["file_id"])

    file = asyncio.run(main())
    assert file.file_path == f"https://api.telegram.org/file/bot{TOKEN}/documents/file_0.pdf"


def test_callback_query_answered_once(tg: FakeTelegram) -> None:
    async def body(bot: telegram.Bot) -> None:
        assert await bot.answer_callback_query("4382bfdwdsb323b2d9", text="Oke") is True
        with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
            await bot.answer_callback_query("4382bfdwdsb323b2d9")
        with pytest.raises(BadRequest, match=r"(?i)Message_too_long"):
            await bot.answer_callback_query("another", text="x" * 201)

    with_bot(tg, body)
    assert tg.calls("answerCallbackQuery")[0].params == {
        "callback_query_id": "4382bfdwdsb323b2d9",
        "text": "Oke",
    }


def test_edit_message_reply_markup(tg: FakeTelegram) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ya", callback_data="yes")]])

    async def body(bot: telegram.Bot) -> telegram.Message | bool:
        sent = await bot.send_message(PRIVATE, "Pilih", reply_markup=keyboard)
        with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
            await bot.edit_message_reply_markup(PRIVATE, sent.message_id, reply_markup=keyboard)
        with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
            await bot.edit_message_text("x", chat_id=PRIVATE, message_id=99)
        return await bot.edit_message_reply_markup(PRIVATE, sent.message_id)

    edited = with_bot(tg, body)
    assert isinstance(edited, telegram.Message) and edited.reply_markup is None


def test_forum_topics(tg: FakeTelegram) -> None:
    async def body(bot: telegram.Bot) -> tuple[telegram.ForumTopic, telegram.Message]:
        topic = await bot.create_forum_topic(FORUM, "Permintaan data: Budi")
        message = await bot.send_message(
            FORUM, "Pertanyaan baru", message_thread_id=topic.message_thread_id
        )
        assert await bot.close_forum_topic(FORUM, topic.message_thread_id) is True
        with pytest.raises(BadRequest, match=r"(?i)Topic_closed"):
            await bot.send_message(FORUM, "x", message_thread_id=topic.message_thread_id)
        with pytest.raises(BadRequest, match=r"(?i)Topic_not_modified"):
            await bot.close_forum_topic(FORUM, topic.message_thread_id)
        with pytest.raises(BadRequest, match=r"(?i)Message thread not found"):
            await bot.send_message(FORUM, "x", message_thread_id=12345)
        with pytest.raises(BadRequest, match=r"(?i)only for supergroups"):
            await bot.create_forum_topic(PRIVATE, "x")
        return topic, message

    topic, message = with_bot(tg, body)
    assert topic.name == "Permintaan data: Budi" and topic.icon_color == 7322096
    assert message.message_thread_id == topic.message_thread_id and message.is_topic_message
    assert message.chat.type == "supergroup" and message.message_id == topic.message_thread_id + 1
    assert tg.topics(FORUM)[topic.message_thread_id]["is_closed"] is True


def test_set_webhook(tg: FakeTelegram) -> None:
    url = "https://pst.example.go.id/telegram/webhook"

    async def body(bot: telegram.Bot) -> None:
        assert await bot.set_webhook(url, secret_token="s3cret_-token", allowed_updates=["message"])
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(BadRequest, match=r"(?i)Https url must be provided"):
            await bot.set_webhook("http://pst.example.go.id/hook")
        with pytest.raises(BadRequest, match=r"(?i)Secret token contains unallowed characters"):
            await bot.set_webhook(url, secret_token="no spaces!")

    with_bot(tg, body)
    assert tg.webhook == {
        "url": url,
        "secret_token": "s3cret_-token",
        "allowed_updates": ["message"],
    }


# --------------------------------------------------------------------------- Twilio


def test_twilio_base_url_attribute_routes_messages_create(client: Client, tw: FakeTwilio) -> None:
    message = client.messages.create(from_=SENDER, to=VISITOR, body="halo")
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.status, message.body, message.to, message.from_) == (
        "queued",
        "halo",
        VISITOR,
        SENDER,
    )
    assert message.date_created.tzinfo is not None and message.num_media == "0"
    assert tw.messages() == [{"To": VISITOR, "From": SENDER, "Body": "halo"}]
    assert tw.bodies(VISITOR) == ["halo"]
    (call,) = tw.calls()
    assert call.path == f"/2010-04-01/Accounts/{SID}/Messages.json" and call.status == 201


def test_twilio_media_urls_are_a_list(client: Client, tw: FakeTwilio) -> None:
    urls = ["https://pst.example.go.id/f/1.pdf", "https://pst.example.go.id/f/2.png"]
    message = client.messages.create(from_=SENDER, to=VISITOR, media_url=urls)
    assert message.num_media == "2" and tw.messages(VISITOR)[0]["MediaUrl"] == urls
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(from_=SENDER, to=VISITOR, media_url=[urls[0]] * 11)
    assert caught.value.code == 21623


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"from_": SENDER, "to": VISITOR, "body": "x" * 1601}, 400, 21617),
        ({"from_": "whatsapp:+15005550006", "to": VISITOR, "body": "x"}, 400, 63007),
        ({"from_": SENDER, "to": "whatsapp:0812345", "body": "x"}, 400, 21211),
        ({"from_": "whatsapp:14155238886", "to": VISITOR, "body": "x"}, 400, 21212),
        ({"from_": SENDER, "to": "+6281234567890", "body": "x"}, 400, 21910),
        ({"from_": SENDER, "to": VISITOR}, 400, 21619),
        ({"to": VISITOR, "body": "x"}, 400, 21603),
        ({"from_": SENDER, "to": "", "body": "x"}, 400, 21604),
        (
            {
                "from_": SENDER,
                "to": VISITOR,
                "content_sid": "HX" + "a" * 32,
                "content_variables": "[1]",
            },
            400,
            21656,
        ),
    ],
)
def test_twilio_rejects_like_the_real_api(
    client: Client, tw: FakeTwilio, kwargs: dict[str, str], status: int, code: int
) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(**kwargs)
    assert (caught.value.status, caught.value.code) == (status, code)
    (call,) = tw.calls()
    assert (
        not call.ok and call.response["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    )
    assert tw.messages() == []


def test_twilio_body_of_1600_characters_passes(client: Client, tw: FakeTwilio) -> None:
    client.messages.create(from_=SENDER, to=VISITOR, body="x" * 1600)
    assert len(tw.bodies(VISITOR)[0]) == 1600


def test_twilio_wrong_credentials(tw: FakeTwilio) -> None:
    for client in _client(tw, "0" * 32):
        with pytest.raises(TwilioRestException) as caught:
            client.messages.create(from_=SENDER, to=VISITOR, body="halo")
        assert (caught.value.status, caught.value.code) == (401, 20003)
    assert tw.messages() == []


def test_twilio_injected_failures(client: Client, tw: FakeTwilio) -> None:
    tw.fail_next()
    tw.fail_next(status=429, code=20429, message="Too Many Requests")
    with pytest.raises(TwilioRestException) as server_error:
        client.messages.create(from_=SENDER, to=VISITOR, body="1")
    with pytest.raises(TwilioRestException) as throttled:
        client.messages.create(from_=SENDER, to=VISITOR, body="2")
    client.messages.create(from_=SENDER, to=VISITOR, body="3")
    assert (server_error.value.status, server_error.value.code) == (500, 20500)
    assert (throttled.value.status, throttled.value.code) == (429, 20429)
    assert "Too Many Requests" in throttled.value.msg
    assert tw.bodies(VISITOR) == ["3"] and [c.ok for c in tw.calls()] == [False, False, True]


def test_twilio_session_window(client: Client, tw: FakeTwilio) -> None:
    tw.session_window(True)
    with pytest.raises(TwilioRestException) as never_wrote:
        client.messages.create(from_=SENDER, to=VISITOR, body="halo")
    tw.visitor_wrote(VISITOR, dtm.datetime.now(dtm.UTC) - dtm.timedelta(hours=25))
    with pytest.raises(TwilioRestException) as too_old:
        client.messages.create(from_=SENDER, to=VISITOR, body="halo")
    assert never_wrote.value.code == too_old.value.code == 63016
    template = client.messages.create(
        from_=SENDER,
        to=VISITOR,
        content_sid="HX" + "0" * 32,
        content_variables=json.dumps({"1": "Budi"}),
    )
    assert template.status == "queued"
    tw.visitor_wrote(VISITOR)
    client.messages.create(from_=SENDER, to=VISITOR, body="halo lagi")
    assert tw.bodies(VISITOR) == ["halo lagi"]
    assert tw.messages(VISITOR)[0]["ContentVariables"] == '{"1": "Budi"}'
    tw.session_window(False)
    client.messages.create(from_=SENDER, to="whatsapp:+6289999999999", body="bebas")


def test_twilio_interactive_content_limits_and_the_window(client: Client, tw: FakeTwilio) -> None:
    with pytest.raises(ValueError):  # in session a quick reply has at most 3 buttons
        tw.add_content("HX" + "1" * 32, "{{1}}", [(str(n), f"pilihan {n}") for n in range(4)])
    with pytest.raises(ValueError):  # a list item title has at most 24 characters
        tw.add_content("HX" + "2" * 32, "{{1}}", [("a", "x" * 25)], picker=True)
    tw.add_content("HX" + "3" * 32, "{{1}}", [("ya", "Ya"), ("tidak", "Tidak")])
    tw.session_window(True)
    with pytest.raises(TwilioRestException) as closed:  # no approval: needs the window
        client.messages.create(from_=SENDER, to=VISITOR, content_sid="HX" + "3" * 32)
    assert closed.value.code == 63016
    tw.visitor_wrote(VISITOR)
    client.messages.create(
        from_=SENDER,
        to=VISITOR,
        content_sid="HX" + "3" * 32,
        content_variables=json.dumps({"1": "Sudah jelas?"}),
    )
    assert tw.shown(VISITOR) == ["Sudah jelas?\n[Ya] [Tidak]"]
    assert tw.interactive(VISITOR) == {
        "text": "{{1}}",
        "actions": [("ya", "Ya"), ("tidak", "Tidak")],
        "session": True,
        "picker": False,
    }


def test_twilio_refuses_whatsapp_media_over_16_mb(client: Client, tw: FakeTwilio) -> None:
    from flask import Flask, Response

    from tests.fakes import FakeServer

    files = Flask(__name__)
    sizes = {"kecil.pdf": 1024, "besar.pdf": 17 * 2**20}

    @files.route("/<name>", methods=["GET", "HEAD"])
    def serve(name: str) -> Response:
        return Response(b"0" * sizes[name], mimetype="application/pdf")

    with FakeServer(files) as server:
        tw.session_window(False)
        client.messages.create(from_=SENDER, to=VISITOR, media_url=[f"{server.base_url}/kecil.pdf"])
        with pytest.raises(TwilioRestException) as big:
            client.messages.create(
                from_=SENDER, to=VISITOR, media_url=[f"{server.base_url}/besar.pdf"]
            )
    assert big.value.code == 63019 and len(tw.messages(VISITOR)) == 1


def test_twilio_posts_signed_status_callbacks(client: Client, tw: FakeTwilio) -> None:
    from flask import Flask, request
    from twilio.request_validator import RequestValidator

    from tests.fakes import FakeServer

    got: list[tuple[dict, bool]] = []
    hooks = Flask(__name__)

    @hooks.post("/status")
    def status() -> str:
        valid = RequestValidator(tw.auth_token).validate(
            request.url, request.form, request.headers.get("X-Twilio-Signature", "")
        )
        got.append((request.form.to_dict(), valid))
        return ""

    with FakeServer(hooks) as server:
        tw.fail_delivery(63024)
        for _ in range(2):
            client.messages.create(
                from_=SENDER, to=VISITOR, body="halo", status_callback=f"{server.base_url}/status"
            )
        deadline = time.monotonic() + 5
        while len(got) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert all(valid for _, valid in got)
    assert [(f["MessageStatus"], f.get("ErrorCode")) for f, _ in got] == [
        ("failed", "63024"),
        ("sent", None),
        ("delivered", None),
    ]
    assert len(tw.shown(VISITOR)) == 1  # the failed one never arrived
