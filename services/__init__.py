"""Use cases: what the team, the customers and the scheduler do to the journal, each one a
transaction over a unit of work (storage/uow.py). bot/, the dashboard and the shell call
these; they never open a session themselves. The rules they apply are pure and live in core/
(the lifecycle, the staff-action rules) and responders/ (the conversation's machine)."""
