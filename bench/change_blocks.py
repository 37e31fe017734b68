#!/usr/bin/env python3
"""Overwrite N random 512 KiB blocks of an image with random data (seeded)
and write the changed-block list ("offset length" per line)."""
import os, random, sys

image, count, listing = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 42
block = 512 * 1024
rng = random.Random(seed)
size = os.path.getsize(image)
blocks = sorted(rng.sample(range(size // block), count))
with open(image, "r+b") as f, open(listing, "w") as out:
    for b in blocks:
        f.seek(b * block)
        f.write(rng.randbytes(block))
        out.write(f"{b * block} {block}\n")
