"""A TCP proxy for the browser tests that can stop forwarding without closing anything,
as a NAT or a proxy that lost its state does: the browser's socket stays open and TCP
reports nothing, so only the client's own checks can notice.

It runs its own asyncio loop in a thread. `stall(direction)` black-holes the connections
open at that moment ("both", or "down": only the hub's bytes to the browser, so what the
browser sends still arrives); connections opened afterwards are forwarded again, as a
fresh path through the network would be.
"""

from __future__ import annotations

import asyncio
import threading


class StallProxy:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1"):
        self.host = host
        self.upstream_port = upstream_port
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.connections: list[dict] = []
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, name="stall-proxy", daemon=True)

    def __enter__(self) -> "StallProxy":
        self.thread.start()
        if not self.started.wait(10):
            raise RuntimeError("the stall proxy did not start")
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self._shut(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _shut(self):
        self.server.close()
        for conn in self.connections:
            for writer in conn["writers"]:
                writer.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stall(self, direction: str = "both"):
        """Stop forwarding on every connection open now; returns how many."""
        assert direction in ("both", "down")
        done = threading.Event()
        count = []

        def mark():
            for conn in self.connections:
                if not conn["closed"]:
                    conn["down"] = True
                    conn["up"] = direction == "both"
            count.append(sum(1 for c in self.connections if c["down"]))
            done.set()

        self.loop.call_soon_threadsafe(mark)
        done.wait(5)
        return count[0]

    # -- inside the loop ---------------------------------------------------

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._accept, self.host, 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.started.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(asyncio.sleep(0))  # let the cancelled tasks end
            self.loop.close()

    async def _accept(self, client_reader, client_writer):
        try:
            hub_reader, hub_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            client_writer.close()
            return
        conn = {"up": False, "down": False, "closed": False, "writers": (client_writer, hub_writer)}
        self.connections.append(conn)
        # A stalled direction keeps reading (so the sender's buffers never fill and
        # nothing signals) and throws the bytes away.
        await asyncio.gather(
            self._pipe(client_reader, hub_writer, conn, "up"),
            self._pipe(hub_reader, client_writer, conn, "down"),
            return_exceptions=True,
        )
        conn["closed"] = True

    async def _pipe(self, reader, writer, conn, direction):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if conn[direction]:
                    continue
                writer.write(data)
                await writer.drain()
        finally:
            if not conn[direction]:
                writer.close()
