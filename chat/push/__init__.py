"""Web Push: telling a youth that a nurse has answered, and a nurse that a youth waits, when
neither has the chat open. Subscriptions are checked (``subscription.py``), sealed with a server
key (``keys.py``) and kept in Redis through chat/store/push.py; the actions enqueue a delivery
(``notices.py``) and a periodic job sends it (``sender.py``), with the rules of
``delivery.py``. Payloads carry no health data, no service name and no conversation id."""
