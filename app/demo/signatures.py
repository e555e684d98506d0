"""The demo's hand-drawn signatures: a PNG of ink strokes per signer, drawn in code (no Pillow here).

Each name gives its own stroke — a run of cursive loops and a closing flourish, as a finger draws on
the signing pad — in dark ink on a transparent ground, 240 × 90 like a phone's pad scaled down. The
pixels are a coverage mask stamped along the curve, so the line has a width and soft edges.
"""
from __future__ import annotations

import hashlib
import math
import struct
import zlib

WIDTH, HEIGHT = 240, 90
INK = 0x1A  # near-black grey: what the pad's #000 stroke looks like once scaled


def _stroke(name: str) -> list[list[tuple[float, float]]]:
    """The curves of `name`'s signature: one point list per pen-down."""
    seed = hashlib.sha256(name.encode()).digest()
    loops = 3 + seed[0] % 3
    height = 18 + seed[1] % 10
    slant = 0.25 + (seed[2] % 20) / 100
    body = []
    steps = 600
    for i in range(steps + 1):
        t = i / steps
        angle = 2 * math.pi * loops * t
        amplitude = height * (0.6 + 0.4 * math.sin(math.pi * t + seed[3] / 40))
        y = 42 - amplitude * math.sin(angle)
        x = 18 + 170 * t - 11 * math.cos(angle) + slant * (42 - y)
        body.append((x, y))
    flourish = []
    for i in range(121):
        t = i / 120
        flourish.append((40 + 180 * t, 68 + 6 * math.sin(math.pi * t * 1.5) - 10 * t * t))
    return [body, flourish]


def signature_png(name: str) -> bytes:
    """A real (non-blank) PNG of `name`'s demo signature."""
    alpha = bytearray(WIDTH * HEIGHT)
    radius = 1.7
    for curve in _stroke(name):
        for (x0, y0), (x1, y1) in zip(curve, curve[1:]):
            dist = max(1, int(math.hypot(x1 - x0, y1 - y0) * 2))
            for k in range(dist):
                cx, cy = x0 + (x1 - x0) * k / dist, y0 + (y1 - y0) * k / dist
                for py in range(max(0, int(cy - radius - 1)), min(HEIGHT, int(cy + radius + 2))):
                    for px in range(max(0, int(cx - radius - 1)), min(WIDTH, int(cx + radius + 2))):
                        cover = radius + 0.5 - math.hypot(px - cx, py - cy)
                        if cover > 0:
                            value = min(255, int(cover * 255))
                            index = py * WIDTH + px
                            if value > alpha[index]:
                                alpha[index] = value
    raw = bytearray()
    for row in range(HEIGHT):
        raw.append(0)  # filter: none
        for a in alpha[row * WIDTH:(row + 1) * WIDTH]:
            raw += bytes((INK, a))  # grey + alpha

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 4, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) \
        + chunk(b"IEND", b"")
