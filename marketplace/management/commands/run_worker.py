"""`manage.py run_worker`: the task worker process (Procfile `worker`). django-tasks-db's `db_worker` with the
same options, all queues by default, plus retries with back-off and the recovery of tasks whose worker died
(marketplace/scheduling/worker.py). Run as many as needed, on any machines sharing the database."""

from django_tasks_db.management.commands import db_worker

from marketplace.scheduling import worker


class Command(db_worker.Command):
    help = "Run a task worker: claims tasks with SKIP LOCKED, retries failures, recovers tasks of lost workers."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*")

    def handle(self, *args, **options):
        # The library's command builds its Worker by name; ours is a subclass, swapped in for this process only.
        db_worker.Worker = worker.RecoveringWorker
        super().handle(*args, **options)
