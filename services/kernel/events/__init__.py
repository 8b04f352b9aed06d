"""Events: the envelope, the registry of versioned payloads, and the contracts."""

from services.kernel.events import contracts
from services.kernel.events.envelope import Envelope, routing_key
from services.kernel.events.registry import Event, UnknownEvent, decode, lookup, registered

__all__ = [
    "Envelope",
    "Event",
    "UnknownEvent",
    "contracts",
    "decode",
    "lookup",
    "registered",
    "routing_key",
]
