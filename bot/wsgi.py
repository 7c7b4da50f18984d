"""WSGI entry point for several web workers: ``gunicorn -w 4 'bot.wsgi:app'``.

Each worker imports this after gunicorn forks (do not use ``--preload``), so each builds its own
database pool and Telegram event loop. No scheduler starts here: run one ``pstbot worker``.
"""

from bot.app import create_app
from bot.service import Service
from bot.settings import load_settings

app = create_app(Service(*load_settings()))
