"""Understanding what a visitor writes: an intent, a confidence and slots for one message.

Channel-neutral and web-free: the engine's handlers call :func:`understand`; ``pstbot nlu``
shows its answer. The model is trained from ``nlu/data/utterances.yaml`` once per process.
"""

from nlu.classifier import INTENTS, Understanding, understand, utterances_version
from nlu.words import option_for

__all__ = ["INTENTS", "Understanding", "option_for", "understand", "utterances_version"]
