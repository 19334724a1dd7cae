"""Go plugin platforms: the ELF identity a plugin for each ``linux/GOARCH`` must have.

The platforms are those some Go release builds plugins for (``BuildModeSupported``, read from each
release's sources into :mod:`soinspect.elf.platforms`); each maps to one ELF class, byte order and
``e_machine`` (the gABI and each processor supplement). :func:`plugin_release_supports` and
:func:`race_release_supports` answer for one release.
"""

from __future__ import annotations

import os
import platform
import re
import struct

from soinspect._frozen import frozen
from soinspect.elf.platforms import PLUGIN, RACE
from soinspect.elf.structs import ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB


@frozen
class Target:
    goos: str
    goarch: str
    elf_class: int
    data_encoding: int
    machine: int

    @property
    def name(self) -> str:
        return f"{self.goos}/{self.goarch}"

    @property
    def bits(self) -> int:
        return 64 if self.elf_class == ELFCLASS64 else 32


EM_386, EM_MIPS, EM_PPC64, EM_S390, EM_ARM, EM_X86_64, EM_AARCH64, EM_RISCV, EM_LOONGARCH = (
    3,
    8,
    21,
    22,
    40,
    62,
    183,
    243,
    258,
)

MACHINE_NAMES = {
    EM_386: "x86 (EM_386)",
    EM_MIPS: "MIPS (EM_MIPS)",
    EM_PPC64: "PowerPC64 (EM_PPC64)",
    EM_S390: "IBM S/390 (EM_S390)",
    EM_ARM: "ARM (EM_ARM)",
    EM_X86_64: "x86-64 (EM_X86_64)",
    EM_AARCH64: "AArch64 (EM_AARCH64)",
    EM_RISCV: "RISC-V (EM_RISCV)",
    EM_LOONGARCH: "LoongArch (EM_LOONGARCH)",
    20: "PowerPC (EM_PPC)",
    2: "SPARC (EM_SPARC)",
    43: "SPARC v9 (EM_SPARCV9)",
}

_TABLE = {
    "386": (ELFCLASS32, ELFDATA2LSB, EM_386),
    "amd64": (ELFCLASS64, ELFDATA2LSB, EM_X86_64),
    "arm": (ELFCLASS32, ELFDATA2LSB, EM_ARM),
    "arm64": (ELFCLASS64, ELFDATA2LSB, EM_AARCH64),
    "loong64": (ELFCLASS64, ELFDATA2LSB, EM_LOONGARCH),
    "ppc64": (ELFCLASS64, ELFDATA2MSB, EM_PPC64),
    "ppc64le": (ELFCLASS64, ELFDATA2LSB, EM_PPC64),
    "riscv64": (ELFCLASS64, ELFDATA2LSB, EM_RISCV),
    "s390x": (ELFCLASS64, ELFDATA2MSB, EM_S390),
}

#: every linux GOARCH some Go release builds plugins for (tests/test_platforms.py: exactly _TABLE's keys)
SUPPORTED_GOARCHES = sorted({arch for arches in PLUGIN.values() for arch in arches})

TARGETS: dict[str, Target] = {
    f"linux/{arch}": Target("linux", arch, *_TABLE[arch]) for arch in SUPPORTED_GOARCHES
}

#: ``uname -m`` -> GOARCH, for a process whose pointers are as wide as the machine's; a 32-bit userland
#: on a 64-bit kernel (``x86_64`` with 4-byte pointers) is the 32-bit GOARCH, as its own ``go`` would say.
_MACHINES = {
    "x86_64": ("amd64", "386"), "amd64": ("amd64", "386"), "i386": ("386", "386"), "i486": ("386", "386"),
    "i586": ("386", "386"), "i686": ("386", "386"), "aarch64": ("arm64", "arm"), "arm64": ("arm64", "arm"),
    "armv6l": ("arm", "arm"), "armv7l": ("arm", "arm"), "armv8l": ("arm", "arm"), "ppc64le": ("ppc64le", None),
    "ppc64": ("ppc64", None), "s390x": ("s390x", None), "riscv64": ("riscv64", None),
    "loongarch64": ("loong64", None),
}


def machine_goarch(machine: str | None = None, pointer_bytes: int | None = None) -> str | None:
    """The GOARCH ``go env GOARCH`` gives on this machine (without GOARCH set): the kernel's ``uname -m``,
    narrowed by this process's pointer size; None for a machine no GOARCH here names."""
    machine = platform.machine() if machine is None else machine
    pointer_bytes = struct.calcsize("P") if pointer_bytes is None else pointer_bytes
    wide, narrow = _MACHINES.get(machine.lower(), (None, None))
    return narrow if pointer_bytes == 4 else wide


def this_machine() -> Target | None:
    """The Go plugin platform of this machine (linux/GOARCH), or None where Go builds no plugins for it."""
    goarch = machine_goarch()
    return TARGETS.get(f"linux/{goarch}") if goarch is not None else None


#: The library's default target: this machine's platform (linux/amd64 on a machine that is none, where a
#: caller must name one to mean anything; the CLI refuses instead, see ``soinspect.cli.command``).
DEFAULT_TARGET = this_machine() or TARGETS["linux/amd64"]


def default_target(environ: dict[str, str] | os._Environ[str] | None = None) -> tuple[Target, str]:
    """The target with no ``--target``: ``GOOS``/``GOARCH`` from the environment where set (as ``go``
    reads them), else this machine's. Returns (target, source): source is ``environment`` or
    ``this machine``. ValueError (naming the variable or the machine) where that is no plugin platform."""
    env = os.environ if environ is None else environ
    goos, goarch = env.get("GOOS") or "", env.get("GOARCH") or ""
    if goos or goarch:
        spec = f"{goos or 'linux'}/{goarch or machine_goarch() or '?'}"
        set_ = " and ".join(f"{k}={v}" for k, v in (("GOOS", goos), ("GOARCH", goarch)) if v)
        try:
            return parse_target(spec), "environment"
        except ValueError as exc:
            raise ValueError(f"{set_} in the environment: {exc}; pass --target or unset it") from None
    target = this_machine()
    if target is None:
        raise ValueError(
            f"this machine ({platform.machine()}) is no platform Go builds plugins for; pass --target "
            f"(one of: {', '.join(TARGETS)})"
        )
    return target, "this machine"


def _minor(go_version: str | None) -> str | None:
    """``go1.26.6`` -> ``1.26`` (``go1.27rc1`` -> ``1.27``); None for anything else."""
    m = re.match(r"go1\.(\d+)", go_version or "")
    return f"1.{m.group(1)}" if m else None


def plugin_release_supports(go_version: str | None, goarch: str) -> bool | None:
    """Whether that Go release builds plugins for linux/*goarch*; None where the table has no row for it
    (a release whose sources the table was not generated from: nothing is claimed)."""
    minor = _minor(go_version)
    return goarch in PLUGIN[minor] if minor in PLUGIN else None


def race_release_supports(go_version: str | None, goarch: str) -> bool | None:
    """Whether that Go release has ``-race`` on linux/*goarch* (``RaceDetectorSupported``); None: no row."""
    minor = _minor(go_version)
    return goarch in RACE[minor] if minor in RACE else None


def releases_for(goarch: str) -> list[str]:
    """The Go minor releases in the table that build plugins for linux/*goarch*."""
    return [minor for minor, arches in PLUGIN.items() if goarch in arches]

#: OS/ABI bytes glibc's loader accepts for a linux shared object: ELFOSABI_SYSV and ELFOSABI_GNU.
LINUX_OSABIS = (0, 3)
OSABI_NAMES = {0: "SYSV", 3: "GNU/Linux", 6: "Solaris", 9: "FreeBSD", 12: "OpenBSD", 2: "NetBSD", 97: "ARM"}


def parse_target(spec: str) -> Target:
    """``linux/arm64`` (or just ``arm64``) to a :class:`Target`; ValueError naming the choices."""
    key = spec if "/" in spec else f"linux/{spec}"
    if key in TARGETS:
        return TARGETS[key]
    if key.lower() in TARGETS:  # Go's names are lower case, as GOOS and GOARCH take them
        raise ValueError(f"unknown target {spec!r}: Go's platform names are lower case ({key.lower()})")
    goos = key.split("/", 1)[0]
    if goos != "linux":
        also = " (Go's plugin package also runs on darwin and freebsd; soinspect does not cover them)"
        raise ValueError(
            f"unsupported target {spec!r}: soinspect judges ELF plugins for linux only"
            + (also if goos in ("darwin", "freebsd") else "")
        )
    raise ValueError(
        f"unknown target {spec!r}: no Go release builds plugins for it; Go builds plugins for "
        f"{', '.join(TARGETS)} (go{min(PLUGIN, key=_release_key)} to go{max(PLUGIN, key=_release_key)})"
    )


def _release_key(minor: str) -> tuple[int, ...]:
    return tuple(int(x) for x in minor.split("."))


def target_for(elf_class: int, data_encoding: int, machine: int) -> Target | None:
    for t in TARGETS.values():
        if (t.elf_class, t.data_encoding, t.machine) == (elf_class, data_encoding, machine):
            return t
    return None


def machine_name(machine: int) -> str:
    return MACHINE_NAMES.get(machine, f"e_machine {machine}")


def machine_file(elf_class: int, data_encoding: int, machine: int) -> str:
    """A file's machine in plain words, with its Go GOARCH where it has one: ``an AArch64 (arm64) file``."""
    if machine not in MACHINE_NAMES:
        return f"a file for an unknown machine (e_machine {machine})"
    target = target_for(elf_class, data_encoding, machine)
    word = machine_word(machine) + (f" ({target.goarch})" if target is not None else "")
    return f"{_article(word)} {word} file"


def machine_process(machine: int) -> str:
    """A process of *machine* in plain words: ``an x86-64 process``."""
    if machine not in MACHINE_NAMES:
        return f"a process of machine {machine}"
    word = machine_word(machine)
    return f"{_article(word)} {word} process"


def machine_word(machine: int) -> str:
    """``AArch64`` for EM_AARCH64: the name without its constant; ``e_machine N`` for one not known."""
    name = MACHINE_NAMES.get(machine)
    return name.split(" (EM_", 1)[0] if name is not None else f"e_machine {machine}"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiox" else "a"


def class_name(elf_class: int) -> str:
    return {ELFCLASS32: "ELF32", ELFCLASS64: "ELF64"}.get(elf_class, f"class {elf_class}")


def data_name(data: int) -> str:
    return {ELFDATA2LSB: "little-endian", ELFDATA2MSB: "big-endian"}.get(data, f"data {data}")
