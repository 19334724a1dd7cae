"""The dynamic-loader half of plugin.Open (soinspect.loader.dynamic) on real libraries built here with gcc.

Messages are checked against the real glibc loader: a tiny C program written by this test dlopens the
test's own C libraries (never a corpus plugin) and prints ``dlerror()``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import corpus
import soinspect
from soinspect.elf import file as _elf
from soinspect.loader import dynamic as sysroot

GCC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(GCC is None, reason="gcc is needed to build the test libraries")

PROBE = r"""
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) { printf("%s\n", dlerror()); return 1; }
    printf("ok\n");
    return 0;
}
"""


def _gcc(*args: str, cwd: Path) -> None:
    assert GCC is not None
    subprocess.run([GCC, *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libold.so (version node OLD_1.0 only), a newer build of it (OLD_1.0 + NEW_2.0) to link against,
    consumer-new.so needing NEW_2.0, consumer-old.so needing OLD_1.0, consumer-missing.so needing a
    library that is not there; all with RUNPATH $ORIGIN; and the dlopen probe."""
    d = tmp_path_factory.mktemp("sysroot-libs")
    build = d / "build"
    build.mkdir()
    (build / "old.c").write_text("int oldfn(void) { return 1; }\n")
    (build / "new.c").write_text("int oldfn(void) { return 1; }\nint newfn(void) { return 2; }\n")
    (build / "old.map").write_text("OLD_1.0 { global: oldfn; local: *; };\n")
    (build / "new.map").write_text("OLD_1.0 { global: oldfn; local: *; };\nNEW_2.0 { global: newfn; } OLD_1.0;\n")
    (build / "use_new.c").write_text("int newfn(void);\nint use(void) { return newfn(); }\n")
    (build / "use_old.c").write_text("int oldfn(void);\nint use(void) { return oldfn(); }\n")
    (build / "miss.c").write_text("int missfn(void) { return 3; }\n")
    (build / "use_miss.c").write_text("int missfn(void);\nint use(void) { return missfn(); }\n")
    (build / "probe.c").write_text(PROBE)
    lib = ["-shared", "-fPIC"]
    _gcc(*lib, "-Wl,--version-script=old.map", "-Wl,-soname,libold.so", "-o", str(d / "libold.so"), "old.c", cwd=build)
    _gcc(*lib, "-Wl,--version-script=new.map", "-Wl,-soname,libold.so", "-o", "libold.so", "new.c", cwd=build)
    _gcc(*lib, "-Wl,-soname,libmiss.so", "-o", "libmiss.so", "miss.c", cwd=build)
    rp = ["-Wl,--enable-new-dtags", "-Wl,-rpath,$ORIGIN"]
    _gcc(*lib, *rp, "-o", str(d / "consumer-new.so"), "use_new.c", "-L.", "-lold", cwd=build)
    _gcc(*lib, *rp, "-o", str(d / "consumer-old.so"), "use_old.c", "-L.", "-lold", cwd=build)
    _gcc(*lib, *rp, "-o", str(d / "consumer-missing.so"), "use_miss.c", "-L.", "-lmiss", cwd=build)
    _gcc("-o", str(d / "probe"), "probe.c", "-ldl", cwd=build)
    return d


def _real_dlopen(built: Path, name: str) -> str:
    """What glibc's dlopen says about the test's own library *name*."""
    out = subprocess.run([str(built / "probe"), str(built / name)], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def _static(path: Path, root: str = "/") -> sysroot.DynamicResolution:
    return sysroot.resolve(_elf.load(str(path)), os.path.realpath(path), root)


@pytest.mark.parametrize("name", ["consumer-new.so", "consumer-old.so", "consumer-missing.so"])
def test_agrees_with_real_loader(built: Path, name: str) -> None:
    real = _real_dlopen(built, name)
    d = _static(built / name)
    assert d.unknown is None
    assert (d.error or "ok") == real


def test_messages(built: Path) -> None:
    origin = os.path.realpath(built)
    assert _static(built / "consumer-new.so").error == (
        f"{origin}/libold.so: version `NEW_2.0' not found (required by {origin}/consumer-new.so)"
    )
    assert _static(built / "consumer-missing.so").error == f"libmiss.so: {sysroot.CANNOT_OPEN}"
    ok = _static(built / "consumer-old.so")
    assert ok.error is None
    assert next((lib.needed, lib.how) for lib in ok.libraries) == (
        "libold.so",
        f"DT_RUNPATH of {origin}/consumer-old.so",
    )


def _fake_root(tmp: Path, libc: Path | None) -> Path:
    libdir = tmp / "lib" / "x86_64-linux-gnu"
    libdir.mkdir(parents=True)
    real_ld = Path("/lib64/ld-linux-x86-64.so.2").resolve()
    shutil.copy(real_ld, libdir / "ld-linux-x86-64.so.2")
    if libc is not None:
        shutil.copy(libc, libdir / "libc.so.6")
    return tmp


def test_corpus_plugin_in_sysroots(tmp_path: Path, built: Path) -> None:
    plugin = corpus.path("greet.so")
    real_libc = Path(_static(Path(plugin)).libraries[0].path or "")
    assert real_libc.name == "libc.so.6"
    good = _fake_root(tmp_path / "good", real_libc)
    r = soinspect.audit(plugin, sysroot=str(good))
    check = r.check("dyn.resolve")
    assert r.loadable and check is not None and check.status == "pass"
    assert "libc.so.6 -> /lib/x86_64-linux-gnu/libc.so.6" in check.message

    empty = _fake_root(tmp_path / "nolibc", None)
    r = soinspect.audit(plugin, sysroot=str(empty))
    assert not r.loadable and r.outcome == "error"
    assert r.open_error == f'plugin.Open("{plugin}"): libc.so.6: {sysroot.CANNOT_OPEN}'
    with pytest.raises(soinspect.PluginOpenError, match=r"libc\.so\.6: cannot open shared object file"):
        soinspect.open(plugin, sysroot=str(empty))

    # A "libc.so.6" that defines only an old version node: GLIBC_2.34 (pthread_create & co) is missing.
    oldlibc = tmp_path / "oldlibc"
    oldlibc.mkdir()
    (oldlibc / "c.c").write_text("int pthread_create(void) { return 0; }\n")
    (oldlibc / "c.map").write_text("GLIBC_2.2.5 { global: *; };\n")
    _gcc(
        "-shared",
        "-fPIC",
        "-Wl,--version-script=c.map",
        "-Wl,-soname,libc.so.6",
        "-nostdlib",
        "-o",
        "libc.so.6",
        "c.c",
        cwd=oldlibc,
    )
    old = _fake_root(tmp_path / "old", oldlibc / "libc.so.6")
    r = soinspect.audit(plugin, sysroot=str(old))
    assert not r.loadable
    assert r.open_error is not None and r.open_error.startswith(
        f'plugin.Open("{plugin}"): /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.'
    )
    assert r.open_error.endswith(f"' not found (required by {os.path.realpath(plugin)})")


def test_one_snapshot_keeps_a_runs_view_of_the_sysroot(tmp_path: Path) -> None:
    """In a command-line run (``one_snapshot``) a sysroot path is walked and a candidate checked once: a
    libc.so.6 that appears after the first file was judged is not seen until the run ends. The library's
    calls, outside it, read the sysroot afresh each time."""
    plugin = corpus.path("greet.so")
    real_libc = Path(_static(Path(plugin)).libraries[0].path or "")
    root = _fake_root(tmp_path / "root", None)
    with sysroot.one_snapshot():
        assert soinspect.audit(plugin, sysroot=str(root)).open_error is not None
        shutil.copy(real_libc, root / "lib" / "x86_64-linux-gnu" / "libc.so.6")
        r = soinspect.audit(plugin, sysroot=str(root))
        assert r.open_error == f'plugin.Open("{plugin}"): libc.so.6: {sysroot.CANNOT_OPEN}', "the run's view"
        with sysroot.one_snapshot():  # nested: the same run
            assert soinspect.audit(plugin, sysroot=str(root)).open_error is not None
    assert sysroot._snapshot is None
    assert soinspect.audit(plugin, sysroot=str(root)).loadable, "outside a run: read afresh"
    (root / "lib" / "x86_64-linux-gnu" / "libc.so.6").unlink()
    assert soinspect.audit(plugin, sysroot=str(root)).open_error is not None


def test_ld_so_conf_and_cache(tmp_path: Path) -> None:
    """Without ld.so.cache the directories of /etc/ld.so.conf (and its includes) are searched."""
    root = tmp_path / "root"
    (root / "opt" / "x").mkdir(parents=True)
    (root / "etc" / "ld.so.conf.d").mkdir(parents=True)
    (root / "etc" / "ld.so.conf").write_text("include /etc/ld.so.conf.d/*.conf\n")
    (root / "etc" / "ld.so.conf.d" / "x.conf").write_text("# comment\n/opt/x\n")
    libc = Path(_static(Path(corpus.path("greet.so"))).libraries[0].path or "")
    shutil.copy(libc, root / "opt" / "x" / "libc.so.6")
    shutil.copy(Path("/lib64/ld-linux-x86-64.so.2").resolve(), root / "opt" / "x" / "ld-linux-x86-64.so.2")
    d = _static(Path(corpus.path("greet.so")), str(root))
    assert d.error is None and d.unknown is None
    assert next((lib.path, lib.how) for lib in d.libraries) == ("/opt/x/libc.so.6", "/etc/ld.so.conf")
    # This machine's real cache is read in the "/" sysroot.
    assert _static(Path(corpus.path("greet.so"))).libraries[0].how == "/etc/ld.so.cache"
