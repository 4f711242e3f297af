"""The nurse's live queue dashboard and the lead overview (issue 5).

``Dashboard`` (in ``core``) is the part of the actions layer that records what the dashboard
needs as things happen: audit entries, per-day statistics (metadata only), risk flags, who is
on duty, canned replies, transfers and the inactivity sweep.
"""
