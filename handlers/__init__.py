"""The conversation flows, one module each; ``STATES`` joins their state tables.

Only the engine sets a conversation's state: a handler returns the next state's name, a prompt
may return one to hand on to, and the staff side starts a flow by returning an ``Enter``.

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
# Conversations saved by releases before prompts could hand on waited in the opening states of
# a hand-over, which then relayed like ``handover.active``; now those states only pass.
FORMER = {"consultation.open": "handover.active", "complaint.submit": "handover.active"}
