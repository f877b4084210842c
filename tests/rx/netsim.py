"""A deterministic simulated network driving Rx cores with a fake clock."""

from __future__ import annotations

import heapq
import random

from kafs.rx import packet as P
from kafs.rx.core import Config, Core


class Net:
    def __init__(self, seed=1, loss=0.0, dup=0.0, reorder=0.0, delay=0.0005,
                 jitter=0.002):
        self.rng = random.Random(seed)
        self.loss = loss
        self.dup = dup
        self.reorder = reorder
        self.delay = delay
        self.jitter = jitter
        self.now = 1000.0
        self.cores: dict = {}
        self.q: list = []
        self.n = 0
        self.drop_filter = None     # f(data, src, dst) -> True to drop
        self.log: list = []          # (time, src, dst, header)
        self.keep_log = False
        self.sent_datagrams = 0
        self.apps: list = []         # callables(now) run after each step

    def add(self, addr, cfg=None, seed=None, **kw) -> Core:
        core = Core(cfg or Config(**kw), rng=random.Random(seed if seed is not None
                                                             else self.rng.random()))
        core.raise_internal = True
        self.cores[addr] = core
        return core

    def _collect(self):
        for src, core in self.cores.items():
            for data, dst in core.take_datagrams():
                self.sent_datagrams += 1
                if self.keep_log:
                    self.log.append((self.now, src, dst, P.decode_header(data), len(data)))
                if self.drop_filter is not None and self.drop_filter(data, src, dst):
                    continue
                if self.rng.random() < self.loss:
                    continue
                copies = 2 if self.rng.random() < self.dup else 1
                for _ in range(copies):
                    t = self.now + self.delay
                    if self.rng.random() < self.reorder:
                        t += self.rng.random() * self.jitter
                    self.n += 1
                    heapq.heappush(self.q, (t, self.n, data, src, dst))

    def step(self) -> bool:
        """Advance to the next event.  False when nothing is left to happen."""
        self._run_apps()
        self._collect()
        t_net = self.q[0][0] if self.q else None
        t_tim = None
        for core in self.cores.values():
            d = core.next_deadline()
            if d is not None and (t_tim is None or d < t_tim):
                t_tim = d
        if t_net is None and t_tim is None:
            return False
        if t_tim is None or (t_net is not None and t_net <= t_tim):
            t, _, data, src, dst = heapq.heappop(self.q)
            self.now = max(self.now, t)
            core = self.cores.get(dst)
            if core is not None:
                core.receive_datagram(data, src, self.now)
        else:
            self.now = max(self.now, t_tim)
            for core in self.cores.values():
                core.handle_timer(self.now)
        self._run_apps()
        self._collect()
        return True

    def _run_apps(self):
        for a in list(self.apps):
            a(self.now)

    def run_until(self, cond, max_time=3600.0, max_steps=2_000_000):
        end = self.now + max_time
        steps = 0
        while not cond():
            if self.now > end or steps > max_steps:
                raise AssertionError("simulation did not converge by t=%.1f" % self.now)
            if not self.step():
                if cond():
                    break
                raise AssertionError("simulation stalled at t=%.1f" % self.now)
            steps += 1


class EchoServer:
    """Server app: reads the whole request, replies with reply_fn(request)."""

    def __init__(self, core, reply_fn=None, hang=False, abort_code=None):
        self.core = core
        self.reply_fn = reply_fn or (lambda req: req[::-1])
        self.hang = hang
        self.abort_code = abort_code
        self.calls = []
        self.requests = []

    def __call__(self, now):
        for c in self.core.take_new_calls():
            self.calls.append([c, bytearray(), False])
        for ent in self.calls:
            c, buf, replied = ent[:3]
            if replied or c.done:
                continue
            while True:
                d = c.read(1 << 20, now)
                if not d:
                    break
                buf += d
            if c.rx_eof:
                if len(ent) == 3:
                    ent.append(True)
                    self.requests.append(bytes(buf))
                if self.hang:
                    continue
                ent[2] = True
                if self.abort_code is not None:
                    c.abort(self.abort_code, now)
                    continue
                c.write(self.reply_fn(bytes(buf)), now)
                c.end_write(now)


class ClientCall:
    """Client app: sends a request and collects the reply."""

    def __init__(self, core, addr, service, request, now, **kw):
        self.core = core
        self.call = core.start_call(addr, service, None, now, **kw)
        self.call.write(request, now)
        self.call.end_write(now)
        self.reply = bytearray()
        self.result = None       # bytes or exception
        self.end_time = None

    def __call__(self, now):
        c = self.call
        if self.result is not None:
            return
        while True:
            d = c.read(1 << 20, now)
            if not d:
                break
            self.reply += d
        if c.error is not None:
            self.result = c.error
            self.end_time = now
        elif c.rx_eof:
            c.end(now)
            self.result = bytes(self.reply)
            self.end_time = now

    @property
    def finished(self):
        return self.result is not None
