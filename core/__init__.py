"""The core: the conversation engine, the outbox and its courier, the channels (parse, render,
send), the texts, WhatsApp's 24-hour window, parked inbound messages, downloads, tickets and the
personal-data rules. Imports only ``office``, ``storage``, ``catalogue`` and ``nlu``."""
