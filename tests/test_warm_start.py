"""Starting WeasyPrint quickly: its C libraries looked up without running a compiler, and
the same libraries loaded as by the usual import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LOADED_LIBRARIES = (  # the libraries WeasyPrint opens itself, as this process has them mapped
    "import weasyprint; weasyprint.HTML(string='<p>x</p>').write_pdf()\n"
    "names = ('gobject', 'pango', 'harfbuzz', 'fontconfig')\n"
    "print(sorted({line.split()[-1] for line in open('/proc/self/maps')\n"
    "              if '.so' in line and any(name in line for name in names)}))\n"
)


def run_python(code: str, path_first: Path) -> str:
    env = {**os.environ, "PATH": f"{path_first}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def recording_toolchain(tmp_path) -> tuple[Path, Path]:
    """A gcc, cc and ld that only note that they were run."""
    bin_dir, record = tmp_path / "bin", tmp_path / "ran.txt"
    bin_dir.mkdir()
    for tool in ("gcc", "cc", "ld"):
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\necho {tool} >> '{record}'\nexit 1\n")
        script.chmod(0o755)
    return bin_dir, record


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the lookup differs on Linux only")
def test_weasyprint_is_imported_without_running_a_compiler_and_loads_the_same_libraries(recording_toolchain):
    bin_dir, record = recording_toolchain
    usual = run_python(LOADED_LIBRARIES, bin_dir)
    assert record.read_text().split(), "the usual import no longer runs gcc or ld: this test proves nothing"
    record.unlink()

    quick = run_python("import ctypes.util; usual = ctypes.util.find_library\n"
                       "from briefgen.render_pdf import import_weasyprint; import_weasyprint()\n"
                       "assert ctypes.util.find_library is usual\n" + LOADED_LIBRARIES, bin_dir)
    assert not record.exists()
    assert quick == usual
    assert "libpango" in quick


def test_libraries_the_linker_cache_misses_are_found_the_usual_way(tmp_path):
    """Where only gcc or ld finds the libraries, the import is done again the usual way."""
    code = (
        "from contextlib import contextmanager\n"
        "import cffi, briefgen.render_pdf as r\n"
        "@contextmanager\n"
        "def nothing_found():\n"
        "    def refuse(*args): raise OSError('cannot load library')\n"
        "    usual, cffi.FFI.dlopen = cffi.FFI.dlopen, refuse\n"
        "    try: yield\n"
        "    finally: cffi.FFI.dlopen = usual\n"
        "r.libraries_from_linker_cache = nothing_found\n"
        "r.import_weasyprint()\n" + LOADED_LIBRARIES)
    printed = run_python(code, tmp_path)
    assert "libpango" in printed
    assert "could not import" not in printed  # WeasyPrint's advice is for a real failure only


def how_the_worker_started() -> tuple:
    import gc

    return "weasyprint" in sys.modules, gc.get_freeze_count(), gc.get_threshold()[0]


def test_workers_start_with_weasyprint_imported_and_its_objects_left_out_of_collections():
    from briefgen.parallel import Runner

    runner = Runner(2)
    try:
        runner.submit("worker", how_the_worker_started, ())
        (tag, (imported, frozen, young_limit)), = runner.finished(block=True)
    finally:
        runner.close()
    assert imported
    assert frozen > 10_000  # the imports: WeasyPrint alone is tens of thousands of objects
    assert young_limit == 10_000
