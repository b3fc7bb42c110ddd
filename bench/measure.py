#!/usr/bin/env python3
"""Run a command, print "<wall seconds> <peak RSS KiB> <exit status> <CPU ms>".

Peak RSS is the child's ru_maxrss from wait4(2): the resident high-water
mark of the process itself (node for the reference CLI, dsyncd for dsync).
"""
import os
import subprocess
import sys
import time

t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t0
cpu = (ru.ru_utime + ru.ru_stime) * 1000
print(f"{wall:.3f} {ru.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu:.0f}")
