"""Serve bench/_intake_app.py as `sprachpool serve` would: one process, or several workers
on one socket bound by `dispatch.serving` (uvicorn's own ``--workers`` leaves Nagle's
algorithm on and adds ~40 ms to every answer on a kept-alive connection).

    python bench/_intake_serve.py PORT WORKERS LOOP HTTP
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))


def main() -> None:
    import uvicorn

    from dispatch import serving

    port, workers, loop, http = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    config = uvicorn.Config(
        "_intake_app:app",
        host="127.0.0.1",
        port=port,
        workers=workers,
        loop=loop,  # type: ignore[arg-type]
        http=http,  # type: ignore[arg-type]
        access_log=False,
        log_level="warning",
    )
    if workers > 1:
        serving.run_workers(config)
    else:
        uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
