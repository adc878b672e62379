"""`doctor()` on every saver: read every row back, report what cannot be, and with `repair`
move it to quarantine (core/doctor.py)."""

from __future__ import annotations

import time

from saver.core import deltas, doctor
from saver.core.config import thread_id_of
from saver.core.doctor import DoctorReport, ProgressCallback
from saver.errors import InvalidConfigError
from saver.io._async.timetravel import AsyncTimeTravel
from saver.io.modes import READ, SNAPSHOT, WRITE


class AsyncDoctor(AsyncTimeTravel):
    """Mixed into the saver base, which supplies `_run`, `_ctx` and `_deltas`."""

    _deltas: deltas.DeltaTracker

    async def adoctor(
        self,
        *,
        thread_id: str | None = None,
        repair: bool = False,
        batch_size: int = 100,
        progress: ProgressCallback | None = None,
    ) -> DoctorReport:
        """Check every thread (or one): each row decodes whole, each parent exists, each
        delta chain is whole, no blob or write is orphaned. With `repair`, damaged rows go
        to the history_quarantine table and orphans are deleted, thread by thread, each in
        its own short transaction. Threads are read `batch_size` ids at a time."""
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise InvalidConfigError(f"batch_size must be a positive int, got {batch_size!r}")
        started = time.monotonic()
        report = DoctorReport(repaired=bool(repair))
        check = doctor.repair_thread if repair else doctor.check_thread
        after: str | None = ""
        while after is not None:
            if thread_id is not None:
                page, after = [thread_id_of(thread_id, "doctor")], None
            else:
                page = await self._run(READ, doctor.thread_page, self._ctx, after, batch_size)
                after = page[-1] if len(page) == batch_size else None
            for tid in page:
                rows, found = await self._run(WRITE if repair else SNAPSHOT, check, self._ctx, tid)
                if any(f.action for f in found):  # no delta may extend what was moved
                    self._deltas.forget([tid])
                report.threads_checked += 1
                report.rows_checked += rows
                report.findings.extend(found)
                if progress is not None:
                    progress(report)
        report.seconds = time.monotonic() - started
        return report
