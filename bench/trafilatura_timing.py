"""Times Python trafilatura's extract() in-process over the 181 AEB pages (the speed baseline
for wirefeed's extractor). Prints the median time of a whole pass over all pages."""
import gzip, json, os, statistics, sys, time
from pathlib import Path

import trafilatura

root = Path(__file__).resolve().parent.parent
data = Path(os.environ.get("WIREFEED_DATA") or root.parent / "shared" / "data")
if not data.is_absolute():
    data = root / data
data = data / "aeb"
truth = json.loads((data / "ground-truth.json").read_text())
pages = [(gzip.decompress((data / "html" / f"{i}.html.gz").read_bytes()).decode("utf-8", "replace"), v["url"])
         for i, v in sorted(truth.items())]
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
trafilatura.extract(pages[0][0], url=pages[0][1])  # warm-up
passes = []
for _ in range(rounds):
    t = time.perf_counter()
    for html, url in pages:
        trafilatura.extract(html, url=url)
    passes.append(time.perf_counter() - t)
print(json.dumps({"version": trafilatura.__version__, "pages": len(pages), "rounds": rounds,
                  "median_pass_s": statistics.median(passes), "passes_s": passes}))
