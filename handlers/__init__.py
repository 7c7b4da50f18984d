"""The conversation flows, one module each; ``STATES`` joins their state tables.

Handlers never import telegram or twilio: they read an ``Inbound`` through a ``Turn`` and say
``Reply`` objects (``core/engine.py``).
"""

from handlers import (
    antrian,
    complaint,
    consultation,
    data_request,
    handover,
    info,
    intents,
    language,
    library,
    menu,
    office,
    privacy,
    rating,
    registration,
    status,
)

STATES = {
    **menu.STATES,
    **office.STATES,
    **language.STATES,
    **info.STATES,
    **registration.STATES,
    **library.STATES,
    **data_request.STATES,
    **status.STATES,
    **consultation.STATES,
    **complaint.STATES,
    **handover.STATES,
    **rating.STATES,
    **antrian.STATES,
    **intents.STATES,
    **privacy.STATES,
}
route = menu.route
