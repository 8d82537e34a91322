"""The CPython side of the files oracle.

Reads one JSON job a line from stdin (see oracle/files/scenario.ts), runs it
with the built-in open() -- as aiofiles would, each call once, `async for`
being readline() until '' -- and writes one JSON list of result lines per job
to stdout. Text files are opened with newline='\\n': tsaio/fs reads and writes
as CPython does with it (docs/fs.md). The format_* functions are the twins of
oracle/files/format.ts.
"""

import errno
import hashlib
import io
import json
import sys

SHORT = 100
HEAD = 24
TAIL = 12
LIST_ITEMS = 20
LIST_CHARS = 1500


def sha1(data):
    return hashlib.sha1(data).hexdigest()[:12]


def escape_code(cp):
    special = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x22: '\\"', 0x5C: "\\\\"}
    if cp in special:
        return special[cp]
    if 0x20 <= cp <= 0x7E:
        return chr(cp)
    return "\\u{%x}" % cp


def escape_byte(b):
    if b in (0x0A, 0x0D, 0x09, 0x22, 0x5C) or 0x20 <= b <= 0x7E:
        return escape_code(b)
    return "\\x%02x" % b


def format_text(s):
    def esc(part):
        return "".join(escape_code(ord(c)) for c in part)

    if len(s) <= SHORT:
        return '"%s"' % esc(s)
    digest = sha1(s.encode("utf-32-le", "surrogatepass"))
    return '"%s"\u2026"%s" (%d chars, sha1 %s)' % (esc(s[:HEAD]), esc(s[-TAIL:]), len(s), digest)


def format_bytes(b):
    def esc(part):
        return "".join(escape_byte(x) for x in part)

    if len(b) <= SHORT:
        return 'b"%s"' % esc(b)
    return 'b"%s"\u2026"%s" (%d bytes, sha1 %s)' % (esc(b[:HEAD]), esc(b[-TAIL:]), len(b), sha1(b))


def format_value(v):
    return format_bytes(v) if isinstance(v, (bytes, bytearray)) else format_text(v)


def format_list(items):
    joined = ", ".join(items)
    if len(items) <= LIST_ITEMS and len(joined) <= LIST_CHARS:
        return "[%s]" % joined
    digest = sha1("\n".join(items).encode("utf-8"))
    return "[%d items, sha1 %s: %s, \u2026, %s]" % (len(items), digest, items[0], items[-1])


def kind(e):
    """The error's kind, as oracle/files/tsaio-side.ts names tsaio's."""
    if isinstance(e, io.UnsupportedOperation):
        return "unsupported"
    if isinstance(e, UnicodeDecodeError):
        return "decode"
    if isinstance(e, UnicodeEncodeError):
        return "encode"
    if isinstance(e, OSError) and e.errno is not None:
        return "invalid" if e.errno == errno.EINVAL else errno.errorcode.get(e.errno, str(e.errno))
    if isinstance(e, ValueError):
        return "invalid"
    return "other:%s: %s" % (type(e).__name__, e)


def describe(op):
    name = op["op"]
    if name in ("read", "readline"):
        return "%s(%s)" % (name, "" if op["n"] is None else op["n"])
    if name == "readlines":
        return "readlines(%s)" % ("" if op["hint"] is None else op["hint"])
    if name == "lines":
        return "lines(%d)" % op["k"]
    if name == "tell":
        return "tell()"
    if name == "seek":
        return "seek(%d, %d)" % (op["offset"], op["whence"])
    if name == "seekTell":
        return "seek(tell#%d)" % op["slot"]
    if name == "truncate":
        return "truncate(%s)" % ("" if op["size"] is None else op["size"])
    return name + "(...)"


def step(f, op, binary, tells):
    """Runs one operation; returns its result line (without the name)."""
    name = op["op"]
    if name == "read":
        return format_value(f.read(-1 if op["n"] is None else op["n"]))
    if name == "readline":
        return format_value(f.readline(-1 if op["n"] is None else op["n"]))
    if name == "readlines":
        return format_list([format_value(x) for x in f.readlines(-1 if op["hint"] is None else op["hint"])])
    if name == "lines":
        got = []
        while len(got) < op["k"]:
            line = f.readline()
            if not line:
                break
            got.append(format_value(line))
        return format_list(got)
    if name == "tell":
        pos = f.tell()
        tells[op["slot"]] = pos
        return str(pos) if binary else "ok"
    if name == "seek":
        pos = f.seek(op["offset"], op["whence"])
        return str(pos) if binary else "ok"
    if name == "seekTell":
        f.seek(tells[op["slot"]])
        return "ok"
    if name in ("write", "writelines"):
        data = op["data"]
        if binary:
            data = bytes.fromhex(data) if name == "write" else [bytes.fromhex(x) for x in data]
        if name == "write":
            return str(f.write(data))
        f.writelines(data)
        return "ok"
    if name == "truncate":
        return str(f.truncate(op["size"]))
    if name == "flush":
        f.flush()
        return "ok"
    raise ValueError("unknown op %r" % name)


def run(job):
    out = []
    binary = "b" in job["mode"]
    try:
        if binary:
            f = open(job["path"], job["mode"])
        else:
            extra = {} if job["errors"] is None else {"errors": job["errors"]}
            f = open(job["path"], job["mode"], encoding=job["encoding"], newline="\n", **extra)
    except Exception as e:
        out.append("open = !" + kind(e))
        f = None
    if f is not None:
        tells = {}
        with f:
            for i, op in enumerate(job["ops"]):
                try:
                    res = step(f, op, binary, tells)
                except Exception as e:
                    res = "!" + kind(e)
                out.append("#%d %s = %s" % (i + 1, describe(op), res))
                if res == "!decode":
                    break  # where a decoding error shows depends on the chunk size: stop there
            try:
                f.close()
            except Exception as e:
                out.append("close = !" + kind(e))
    try:
        with open(job["path"], "rb") as g:
            out.append("file = " + format_bytes(g.read()))
    except FileNotFoundError:
        out.append("file = absent")
    return out


def main():
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(run(json.loads(line))) + "\n")
    sys.stdout.flush()


main()
