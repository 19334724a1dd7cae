//go:build dyn_hostlib

package main

// A host that links libhostlib.so (found beside it through RUNPATH $ORIGIN): hostlib_fn is in the global
// scope of the process, through the host's library, when a plugin is opened.

/*
#cgo LDFLAGS: -L${SRCDIR}/../../out -lhostlib -Wl,-rpath,$ORIGIN
int hostlib_fn(void);
*/
import "C"

func useDep() { C.hostlib_fn() }
