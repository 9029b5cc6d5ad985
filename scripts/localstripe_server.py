"""Start localstripe (the local Stripe stand-in) bound to 127.0.0.1 only.

Its own CLI binds every interface and pickles its state to one fixed /tmp file shared by every run, so
this wrapper binds loopback and keeps each run's state in its own file (or only in memory)."""

import argparse
import pickle
from pathlib import Path

from aiohttp import web
from localstripe import resources, server


def _use_state_file(path: Path | None) -> None:
    def load(store):
        if path and path.exists():
            with path.open("rb") as f:
                store.clear()
                store.update(pickle.load(f))

    def dump(store):
        if path:
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as f:
                pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--state-file", type=Path, default=None, help="persist state here (default: memory only)")
    args = parser.parse_args()
    if args.state_file:
        args.state_file.parent.mkdir(parents=True, exist_ok=True)
    _use_state_file(args.state_file)
    resources.store.try_load_from_disk()
    web.run_app(server.app, host="127.0.0.1", port=args.port, print=lambda *_: None)


if __name__ == "__main__":
    main()
