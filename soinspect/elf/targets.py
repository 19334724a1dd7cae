"""Go plugin platforms: the ELF identity a plugin for each ``linux/GOARCH`` must have.

Go supports ``-buildmode=plugin`` on linux for these GOARCH values (``cmd/internal/platform``'s
``BuildModeSupported``); each maps to one ELF class, byte order and ``e_machine``.
"""

from __future__ import annotations

from soinspect._frozen import frozen
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
    "mips": (ELFCLASS32, ELFDATA2MSB, EM_MIPS),
    "mipsle": (ELFCLASS32, ELFDATA2LSB, EM_MIPS),
    "mips64": (ELFCLASS64, ELFDATA2MSB, EM_MIPS),
    "mips64le": (ELFCLASS64, ELFDATA2LSB, EM_MIPS),
    "ppc64le": (ELFCLASS64, ELFDATA2LSB, EM_PPC64),
    "riscv64": (ELFCLASS64, ELFDATA2LSB, EM_RISCV),
    "s390x": (ELFCLASS64, ELFDATA2MSB, EM_S390),
}

TARGETS: dict[str, Target] = {
    f"linux/{arch}": Target("linux", arch, c, d, m) for arch, (c, d, m) in _TABLE.items()
}
DEFAULT_TARGET = TARGETS["linux/amd64"]

#: OS/ABI bytes glibc's loader accepts for a linux shared object: ELFOSABI_SYSV and ELFOSABI_GNU.
LINUX_OSABIS = (0, 3)
OSABI_NAMES = {0: "SYSV", 3: "GNU/Linux", 6: "Solaris", 9: "FreeBSD", 12: "OpenBSD", 2: "NetBSD", 97: "ARM"}


def parse_target(spec: str) -> Target:
    """``linux/arm64`` (or just ``arm64``) to a :class:`Target`; ValueError naming the choices."""
    key = spec if "/" in spec else f"linux/{spec}"
    if key in TARGETS:
        return TARGETS[key]
    goos = key.split("/", 1)[0]
    if goos != "linux":
        raise ValueError(
            f"unsupported target {spec!r}: soinspect judges ELF plugins for linux only "
            f"(Go's plugin package on darwin/freebsd is not covered)"
        )
    raise ValueError(f"unknown target {spec!r}; choose one of: {', '.join(sorted(TARGETS))}")


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
