#!/usr/bin/env python3
"""The disk's floor for a durable restore: the least time in which this
machine reads a (cold) repository and writes an image's data to a new
file, at once, with no decoding at all.

usage: disk_floor.py REPO_DIR WRITE_BYTES SCRATCH_FILE

Reads every file under REPO_DIR (evict it from the page cache first) on
two threads while four threads write WRITE_BYTES of 512 KiB blocks with
O_DIRECT into SCRATCH_FILE (allocated first), then fsyncs; prints the
seconds. No restore that writes its data to disk before it returns can
be faster; a restore that leaves it in the page cache (restic's) is not
held to this.
"""
import mmap
import os
import sys
import threading
import time

BLOCK = 512 * 1024


def read_all(paths, lock):
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    while True:
        with lock:
            if not paths:
                return
            path = paths.pop()
        fd = os.open(path, os.O_RDONLY)
        try:
            while os.readv(fd, [view]) > 0:
                pass
        finally:
            os.close(fd)


def write_blocks(fd, blocks, lock):
    buf = mmap.mmap(-1, BLOCK)  # page-aligned, as O_DIRECT asks
    buf.write(os.urandom(BLOCK))
    while True:
        with lock:
            if not blocks:
                return
            b = blocks.pop()
        os.pwrite(fd, buf, b * BLOCK)


def main():
    repo, nbytes, scratch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    paths = [os.path.join(root, f) for root, _, files in os.walk(repo) for f in files]
    nblocks = (nbytes + BLOCK - 1) // BLOCK
    blocks = list(range(nblocks - 1, -1, -1))  # popped in ascending order
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o600)
    try:
        os.posix_fallocate(fd, 0, nblocks * BLOCK)
        rlock, wlock = threading.Lock(), threading.Lock()
        threads = [threading.Thread(target=read_all, args=(paths, rlock)) for _ in range(2)]
        threads += [threading.Thread(target=write_blocks, args=(fd, blocks, wlock))
                    for _ in range(4)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        os.fsync(fd)
        print(f"{time.monotonic() - start:.2f}")
    finally:
        os.close(fd)
        os.unlink(scratch)


if __name__ == "__main__":
    main()
