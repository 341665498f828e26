"""Fuzzing: mutated trace.dat files raise only DecodeError, and nothing hangs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from typing import Iterator, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.errors import DecodeError
from fleet.tracedat.copy import copy_tracedat
from fleet.tracedat.reader import TraceDat
from fleet.tracedat.writer import TraceDatWriter

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "small.dat")
SECONDS = 5


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> List[bytes]:
    """The fixture as zstd v7, as uncompressed v7 (so mutations reach the metadata parsers) and, where trace-cmd
    is installed, as version 6 with an instance buffer (the inline layout and its BUFFER options)."""
    base = tmp_path_factory.mktemp("fuzz")
    plain, inst, v6 = str(base / "plain.dat"), str(base / "inst.dat"), str(base / "v6.dat")
    with TraceDat.open(FIXTURE) as src:
        copy_tracedat(src, plain, "none")
        top = src.buffers[0]
        meta = type(top.meta)(**{**top.meta.__dict__, "kallsyms": "ffffffff81000000 T _stext\n"})
        with TraceDatWriter(inst, meta) as w:
            w.add_buffer(meta, {cpu: top.pages(cpu) for cpu in top.cpus})
            w.add_buffer(type(meta)(**{**meta.__dict__, "buffer_name": "i"}), {0: top.pages(0)})
    out = [open(FIXTURE, "rb").read(), open(plain, "rb").read()]
    trace_cmd = shutil.which("trace-cmd")
    if trace_cmd:
        subprocess.run(
            [trace_cmd, "convert", "--file-version", "6", "-i", inst, "-o", v6], check=True, capture_output=True
        )
        out.append(open(v6, "rb").read())
    return out


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang()


def read_everything(data: bytes) -> None:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    try:
        dat = TraceDat.from_bytes(data)
        for buf in dat.buffers:
            _ = (buf.meta, buf.in_usecs, buf.timestamp(123456789, 0))
            for cpu in buf.cpus:
                for page in buf.pages(cpu):
                    assert len(page) == buf.meta.page_size
    except DecodeError:
        pass
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def mutate(data: bytes, edits: List[Tuple[float, int]], cut: float) -> bytes:
    out = bytearray(data)
    for where, value in edits:
        out[int(where * (len(out) - 1))] = value
    return bytes(out[: max(1, int(cut * len(out)))])


edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=8)
EXAMPLES = int(os.environ.get("FLEET_FUZZ_EXAMPLES", "250"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(which=st.integers(0, 2), changes=edits, cut=st.one_of(st.just(1.0), st.floats(0, 1)))
def test_mutated_files_raise_only_decode_errors(variants: List[bytes], which: int, changes, cut: float) -> None:
    read_everything(mutate(variants[which % len(variants)], changes, cut))


@SETTINGS
@given(which=st.integers(0, 2), pos=st.integers(0, 80), value=st.binary(min_size=1, max_size=8))
def test_mutated_headers_raise_only_decode_errors(variants: List[bytes], which: int, pos: int, value: bytes) -> None:
    data = bytearray(variants[which % len(variants)])
    data[pos : pos + len(value)] = value
    read_everything(bytes(data))


def _structure_offsets(data: bytes) -> Iterator[int]:
    """Offsets in and just after every section header, options section and CPU data start of the file."""
    dat = TraceDat.from_bytes(data)
    starts = list(dat.options_offsets) + list(dat.options.sections.values())
    for buf in dat.options.buffers:
        starts.append(buf.offset)
        starts.extend(ref.offset for ref in buf.cpus)
    for start in sorted(set(starts)):
        yield from range(start, min(start + 96, len(data)))


@SETTINGS
@given(which=st.integers(0, 2), where=st.floats(0, 1), value=st.binary(min_size=1, max_size=8))
def test_mutated_options_raise_only_decode_errors(
    variants: List[bytes], which: int, where: float, value: bytes
) -> None:  # noqa: E501
    data = bytearray(variants[which % len(variants)])
    tail = list(_structure_offsets(bytes(data)))
    pos = tail[int(where * (len(tail) - 1))]
    data[pos : pos + len(value)] = value
    read_everything(bytes(data))
