"""``python -m chat.cli``: the same as the ``helseprat`` command."""

from chat.cli.main import main

raise SystemExit(main())
