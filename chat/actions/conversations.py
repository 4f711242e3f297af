"""The actions layer: every state change of a conversation goes through here.

Each action checks who may do it (chat/domain/conversation.py), stores the change, and only
then publishes (the store's Lua scripts publish inside the same atomic step). Endpoints never
write to Redis themselves. ``Actions`` gathers the parts: youth.py (with later.py and
fairuse.py), nurse.py, transfer.py, helpers.py.
"""

from __future__ import annotations

from chat.actions.base import Notices
from chat.actions.helpers import HelperActions
from chat.actions.links import Links
from chat.actions.nurse import NurseActions
from chat.actions.transfer import TransferActions
from chat.actions.youth import YouthActions
from chat.clock import Clock
from chat.config import Config
from chat.store.conversations import Store


class Actions(YouthActions, NurseActions, TransferActions, HelperActions):
    def __init__(self, config: Config, store: Store, clock: Clock,
                 notices: Notices | None = None) -> None:
        super().__init__(config, store, clock, notices)
        self.links = Links(config, store, clock)
