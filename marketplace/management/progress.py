"""The progress bar of a management command's long work (imports, rebuilds, exports)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(command, *, unit: str, desc: str | None = None, total: int | None = None,
                 disable: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on the command's stderr, yielded as the ``progress(done, total)`` callback the services take
    (rows/s shown by tqdm; ``total`` may be given up front or by the service as it learns it)."""
    with tqdm(total=total, unit=unit, desc=desc, disable=disable, file=command.stderr) as bar:
        def progress(done: int, total: int | None = None) -> None:
            if total is not None:
                bar.total = total
            bar.update(done - bar.n)

        yield progress
