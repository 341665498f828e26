"""Host side of the kernel-as-oracle tests: run guest_capture.py in a VM, rebuild its pages and TraceMeta."""

from __future__ import annotations

import base64
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from fleet.ftrace.events import Decoder, Event
from fleet.ftrace.latency import KernelText, events_in_order
from fleet.ftrace.meta import TraceMeta
from fleet.lab.vm.lab import VmLab

SCRIPT = Path(__file__).with_name("guest_capture.py")


@dataclass
class Capture:
    """The kernel's `trace` text and the raw pages of the same data, with the metadata to decode them."""

    text: str
    meta: TraceMeta
    pages: Dict[int, List[bytes]]
    max_latency: str

    def kernel_text(self, tracer: str, options: Sequence[str] = ()) -> Tuple[List[Event], str]:
        """The captured events in order, and fleet's rendering of them as the kernel's `trace` file (-O `options`)."""
        decoder = Decoder(self.meta)
        events = events_in_order(decoder, self.pages)
        return events, KernelText.of(decoder, options=options).render(tracer, events, self.meta.cpus)


def capture(lab: VmLab, host: str, timeout: float = 120.0, **config: Any) -> Capture:
    """Capture in a lab guest."""
    cmd = "python3 - " + shlex.quote(json.dumps(config))
    return parse(lab.run(host, cmd, timeout=timeout, stdin=SCRIPT.read_bytes()))


def capture_here(timeout: float = 60.0, **config: Any) -> Capture:
    """Capture on this machine's kernel (root and tracefs needed)."""
    argv = [sys.executable, str(SCRIPT), json.dumps(config)]
    return parse(subprocess.run(argv, check=True, capture_output=True, text=True, timeout=timeout).stdout)


def parse(output: str) -> Capture:
    raw = json.loads(output)
    meta = TraceMeta(
        header_page=raw["header_page"],
        header_event=raw["header_event"],
        ftrace_formats=raw["ftrace_formats"],
        event_formats=raw["event_formats"],
        kallsyms=raw["kallsyms"],
        printk_formats=raw["printk_formats"],
        saved_cmdlines=raw["saved_cmdlines"],
        saved_tgids=raw["saved_tgids"],
        cpus=raw["cpus"],
        trace_clock=raw["trace_clock"],
        uname=raw["uname"],
    )
    pages = {int(c): [base64.b64decode(p) for p in ps] for c, ps in raw["pages"].items()}
    return Capture(raw["trace"], meta, pages, raw["max_latency"])


def collapse(text: str) -> List[str]:
    """Lines with runs of blanks collapsed to one and trailing blanks dropped (the acceptance's comparison)."""
    return [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
