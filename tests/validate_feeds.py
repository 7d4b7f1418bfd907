#!/usr/bin/env python3
"""Runs the W3C Feed Validator (feedvalidator, vendored in $WIREFEED_DATA/../tools) over
many feed files in one process and prints one line per error or warning:
    FILE<TAB>ERROR|WARNING<TAB>EventName<TAB>message
then 'checked N files'. Usage: validate_feeds.py VALIDATOR_DIR BASE_URL FILE...
(BASE_URL + the file's name is the address each document was served at)."""
import os
import sys

validator_dir, base = sys.argv[1], sys.argv[2]
sys.path.insert(0, validator_dir)
import feedvalidator  # noqa: E402
from feedvalidator import compatibility, logging as L  # noqa: E402
from feedvalidator.formatter.text_plain import Formatter  # noqa: E402

files = sys.argv[3:]
for path in files:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        result = feedvalidator.validateString(
            data, firstOccurrenceOnly=True, base=base + os.path.basename(path)
        )
        events = result["loggedEvents"]
    except L.ValidationFailure as failure:
        events = [failure.event]
    events = compatibility.AA(events)  # errors and warnings, as the public validator shows them
    fmt = Formatter(events)
    for ev in events:
        kind = "ERROR" if isinstance(ev, L.Error) else "WARNING" if isinstance(ev, L.Warning) else None
        if kind:
            value = str(ev.params.get("value", ""))[:120]
            print("%s\t%s\t%s\t%s %s" % (os.path.basename(path), kind, type(ev).__name__, fmt.format(ev), value))
print("checked %d files" % len(files))
