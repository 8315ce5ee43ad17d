"""systemd integration: with a fake NOTIFY_SOCKET and WATCHDOG_USEC the daemon
sends READY=1 once serving, WATCHDOG=1 regularly, RELOADING=1 (with
MONOTONIC_USEC) then READY=1 on SIGHUP, STOPPING=1 on SIGTERM, and exits 0.
Also socket activation through LISTEN_FDS."""
import os
import signal
import socket
import subprocess
import tempfile
import time

from harness import Daemon, Database, free_port, http, run, skip_without_pg

skip_without_pg()
db = Database()


class FakeSystemd:
    def __init__(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []

    def drain(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return self.messages

    def wait_for(self, text, seconds=10):
        end = time.time() + seconds
        while time.time() < end:
            if any(text in m for m in self.messages):
                return True
            self.drain(0.1)
        return False


def test_notify_protocol():
    fake = FakeSystemd()
    d = Daemon(db, env={"NOTIFY_SOCKET": fake.path, "WATCHDOG_USEC": "1000000"})
    d.start()
    assert fake.wait_for("READY=1"), fake.messages
    assert any(m.startswith("STATUS=") for m in fake.drain(0.3)), fake.messages
    n_before = sum("WATCHDOG=1" in m for m in fake.messages)
    fake.drain(2.2)
    n_after = sum("WATCHDOG=1" in m for m in fake.messages)
    assert n_after - n_before >= 3, "WATCHDOG=1 about every 0.5 s: %r" % fake.messages
    fake.messages.clear()
    d.signal(signal.SIGHUP)
    assert fake.wait_for("READY=1"), fake.messages
    reloading = [i for i, m in enumerate(fake.messages) if "RELOADING=1" in m]
    ready = [i for i, m in enumerate(fake.messages) if m == "READY=1"]
    assert reloading and ready and reloading[0] < ready[-1], fake.messages
    assert "MONOTONIC_USEC=" in fake.messages[reloading[0]]
    fake.messages.clear()
    assert d.stop() == 0
    fake.drain(0.3)
    assert any("STOPPING=1" in m for m in fake.messages), fake.messages


def test_socket_activation():
    port = free_port()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(16)
    # systemd passes the socket as fd 3 with LISTEN_PID set to the service's pid:
    # a tiny shell sets LISTEN_PID=$$ and execs the daemon, keeping its pid.
    cmd = ['/bin/sh', '-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" serve --db "$1" --listen 127.0.0.1:1 --workers 1',
           os.environ["PLANTRACKD"], db.conninfo]
    log = tempfile.TemporaryFile()
    # preexec_fn runs before close_fds, so the descriptor to keep is 3 itself.
    proc = subprocess.Popen(cmd, pass_fds=(3,), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log,
                            preexec_fn=lambda: os.dup2(lsock.fileno(), 3))
    try:
        ok = False
        for _ in range(50):
            r = http("GET", "http://127.0.0.1:%d/healthz" % port, timeout=2)
            if r.status == 200:
                ok = True
                break
            time.sleep(0.1)
        assert ok, "no answer on the inherited socket"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = "hung"
        log.seek(0)
        assert code == 0, (code, log.read()[-3000:])


run(globals())
