"""Ctrl-C during a section lvyue run lets a signal cut short: the section ends with
KeyboardInterrupt even when the signal's own exception was lost."""

from __future__ import annotations

import gc
import os
import signal
import weakref

import pytest

from lvyue.cli.supervisor import Interrupts


class _Thing:
    pass


# What the test makes happen: the KeyboardInterrupt ignored in the callback, which pytest reports.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_whose_exception_was_lost_still_ends_the_section() -> None:
    interrupts = Interrupts()
    previous = signal.getsignal(signal.SIGINT)
    interrupts.install()
    try:
        with (  # noqa: PT012
            pytest.raises(KeyboardInterrupt, match="stop requested"),
            interrupts.interruptible(),
        ):
            thing = _Thing()
            # The signal is handled inside the weakref's callback, where Python prints the
            # KeyboardInterrupt and goes on, as it did during a collection.
            ref = weakref.ref(thing, lambda _: os.kill(os.getpid(), signal.SIGINT))
            del thing
            gc.collect()
            assert ref() is None
        assert interrupts.requested
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, previous)


def test_a_section_without_a_signal_ends_normally() -> None:
    interrupts = Interrupts()
    with interrupts.interruptible():
        pass
    assert not interrupts.requested
