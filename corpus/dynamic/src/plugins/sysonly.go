package main

// Needs libsysonly.so, with no RUNPATH: found only in the sysroot's /usr/lib.

/*
#cgo LDFLAGS: -L${SRCDIR}/../../out -lsysonly
int sysonly_fn(void);
*/
import "C"

func CallSysonly() int { return int(C.sysonly_fn()) }
