"""The simulators' serve loop: the ready line goes out only once a signal stops it cleanly."""

import os
import signal

from sim.serving import serve_until_signalled


class SignalOnPrint(str):
    """A ready line that, the moment it is printed, signals the process like a script would."""

    def __str__(self):
        os.kill(os.getpid(), signal.SIGINT)
        return str.__str__(self)


def test_ready_line_is_printed_after_the_handlers_are_in_place(capsys):
    before = signal.getsignal(signal.SIGINT)
    stopped = []
    serve_until_signalled(lambda: stopped.append(True), SignalOnPrint("address=http://127.0.0.1:1"))
    assert stopped == [True]  # a KeyboardInterrupt would have escaped instead
    assert capsys.readouterr().out == "address=http://127.0.0.1:1\n"
    assert signal.getsignal(signal.SIGINT) is before
