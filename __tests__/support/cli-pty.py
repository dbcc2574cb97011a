#!/usr/bin/env python3
"""Drives a command through a pseudo-terminal like a user would.

Usage: cli-pty.py SCRIPT.json -- command args...
SCRIPT.json is a list of [pattern, keys]: wait until the (ANSI-stripped) output after the previous
match contains the regex `pattern`, then type `keys`. Prints the whole transcript, exits with the
command's exit code (or 124 when a pattern does not appear in time: 20 s, or CLI_PTY_TIMEOUT seconds).
"""
import json, os, pty, re, select, sys, time

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")

def main():
    script = json.load(open(sys.argv[1]))
    argv = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["COLUMNS"] = "200"
        os.execvp(argv[0], argv)
    raw = b""
    seen = 0
    def pump(timeout):
        nonlocal raw
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        raw += data
        return True
    for pattern, keys in script:
        deadline = time.time() + float(os.environ.get("CLI_PTY_TIMEOUT", "20"))
        while True:
            text = ANSI.sub("", raw.decode("utf8", "replace"))
            m = re.search(pattern, text[seen:])
            if m:
                seen += m.end()
                break
            if time.time() > deadline or not pump(0.2):
                sys.stdout.write(text)
                sys.stdout.write("\n[cli-pty] timed out waiting for %r\n" % pattern)
                os.kill(pid, 9)
                sys.exit(124)
        time.sleep(0.05)
        os.write(fd, keys.encode("utf8"))
    while pump(30):
        pass
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(ANSI.sub("", raw.decode("utf8", "replace")))
    sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)

main()
