"""The running agent's local control socket: one owner per device.

The agent owns its printer and encoder (ports opened exclusively). Staff tools that need a
device while it runs (``doctor``, ``doctor --read-card``, ``doctor --print-test``, ``pos pay``'s
receipt) ask the agent over a Unix socket, ``agent.state_dir/control.sock`` (mode 0600), and
open the device themselves only when no agent answers there. A Unix socket rather than the
kiosk's loopback HTTP server: it exists whether or not the kiosk is enabled, it is never
reachable from the network or the guest's browser, the file mode and the peer's uid decide
who may ask, and it sits beside ``agent.lock`` so it names exactly the agent of this state
folder.

Wire: one JSON object per line each way, one request per connection.
"""

SOCKET_NAME = "control.sock"
