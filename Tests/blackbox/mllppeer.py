"""An MLLP peer for the HL7 v2 tests: a listener that records framed messages and answers each
with an ACK it builds (AA, or a NAK / a dropped connection on demand), and a client that sends
framed messages and reads the framed answer. Messages are checked with hl7apy (v2.5.1)."""
import socket
import threading
import time

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

START, END = b"\x0b", b"\x1c\x0d"


def frame(text):
    return START + text.encode() + END


def read_frame(sock, buffer=b""):
    """(message, rest) from a socket; (None, rest) when it closes first."""
    while END not in buffer:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return None, buffer
        if not chunk:
            return None, buffer
        buffer += chunk
    start = buffer.index(START)
    end = buffer.index(END)
    return buffer[start + 1:end].decode(), buffer[end + 2:]


def fields(text, segment):
    """The fields of the first `segment` of an ER7 message (index 0 is the segment name)."""
    for line in text.replace("\n", "\r").split("\r"):
        if line.startswith(segment + "|"):
            parts = line.split("|")
            if segment == "MSH":
                parts.insert(1, "|")
            return parts
    return None


def validate(text):
    """The message as hl7apy parses it with strict v2.5.1 validation (raises when invalid)."""
    return parse_message(text.replace("\n", "\r"), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)


class Listener:
    """Receives the sandbox's outbound feed. `plan` is a list of what to do with the next
    messages: "nak" (answer AE), "drop" (close the connection without an answer); then AA."""

    def __init__(self):
        self.messages = []
        self.plan = []
        self.lock = threading.Condition()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        rest = b""
        with conn:
            while True:
                try:
                    message, rest = read_frame(conn, rest)
                except OSError:
                    return
                if message is None:
                    return
                with self.lock:
                    action = self.plan.pop(0) if self.plan else "ack"
                    self.messages.append((message, action))
                    self.lock.notify_all()
                if action == "drop":
                    return
                control = fields(message, "MSH")[10]
                code = "AE" if action == "nak" else "AA"
                ack = (f"MSH|^~\\&|RECEIVER|LAB|FHIR-SANDBOX|RIVERBEND|20260413080000||ACK^S12^ACK|A{control}|P|2.5.1\r"
                       f"MSA|{code}|{control}|{'busy, try again' if code == 'AE' else ''}\r")
                conn.sendall(frame(ack))

    def wait(self, count, timeout=10.0):
        deadline = time.time() + timeout
        with self.lock:
            while len(self.messages) < count:
                left = deadline - time.time()
                assert left > 0, f"{len(self.messages)} of {count} messages: {[fields(m, 'MSH')[9] for m, _ in self.messages]}"
                self.lock.wait(left)
            return list(self.messages)

    def quiet(self, seconds):
        time.sleep(seconds)
        with self.lock:
            return list(self.messages)

    def close(self):
        self.closed = True
        self.sock.close()


def send(port, text, timeout=10.0):
    """Sends one framed message on a new connection; the framed answer (None if it closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(frame(text))
        answer, _ = read_frame(sock)
        return answer
