"""Reads from a PostgreSQL streaming replica where they can be (issue 22): the search, the listing pages and the
IP office's dashboard, when DATABASE_REPLICA_URL names one; everything else, and everything a user has just
written, from the primary (router.py, middleware.py)."""
