"""A webhook receiver on loopback for Subscription tests: records every call (method, path,
headers, body, arrival time) and answers as told (a status, a delay, or not at all)."""
import http.server
import json
import threading
import time


class Receiver:
    def __init__(self, port=0):
        self.calls = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver.lock:
                    status, delay = receiver.status, receiver.delay
                if delay:
                    time.sleep(delay)
                with receiver.lock:
                    receiver.calls.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                           "body": body, "at": time.time(), "status": status})
                    receiver.lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_GET = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, status=200, delay=0.0):
        with self.lock:
            self.status, self.delay = status, delay

    def wait(self, count, timeout=5.0, accepted_only=False):
        """The calls once there are `count` (of them answered 2xx with accepted_only); fails after `timeout`."""
        deadline = time.time() + timeout
        with self.lock:
            while True:
                calls = [c for c in self.calls if not accepted_only or 200 <= c["status"] < 300]
                if len(calls) >= count:
                    return list(calls)
                left = deadline - time.time()
                assert left > 0, f"{len(calls)} of {count} calls after {timeout} s: {[(c['method'], c['path']) for c in calls]}"
                self.lock.wait(left)

    def quiet(self, seconds):
        """The calls after waiting `seconds` (to show that nothing more arrives)."""
        time.sleep(seconds)
        with self.lock:
            return list(self.calls)

    def json(self, call):
        return json.loads(call["body"])

    def close(self):
        self.server.shutdown()
        self.server.server_close()
