"""WSGI entry point for several web workers: ``gunicorn -w 4 'bot.wsgi:app'``.

Each worker imports this after gunicorn forks (do not use ``--preload``), so each builds its own
database pool and Telegram event loop. Workers only connect: run ``pstbot migrate`` once
before starting them (a worker refuses to start on an older schema). No scheduler starts here:
run one ``pstbot worker``.
Workers log like ``pstbot serve`` (:mod:`bot.logs`: no secrets, no personal data).
"""

import logging
import sys

from bot import logs
from bot.app import create_app
from bot.service import Service, StartupError, settle
from bot.settings import load_settings
from office.config import ConfigError

logs.setup("INFO")
try:
    _settings, _pst = load_settings()
    logs.setup("INFO", _settings.secrets)
    app = create_app(Service(_settings, _pst, prepare=False))
    settle()
except (ConfigError, StartupError) as exc:
    logging.getLogger(__name__).critical("cannot start: %s", exc)
    sys.exit(2)
