"""The scheduler of periodic jobs: what runs when (schedule.py), enqueued once per slot (services.py)."""
