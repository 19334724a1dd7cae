package main

// Built against libabsent.so, with no RUNPATH: the loader looks only in the default directories, where
// libabsent.so is not, so dlopen fails naming it.

/*
#cgo LDFLAGS: -L${SRCDIR}/../../out -labsent
int demo_add(int a, int b);
*/
import "C"

func Add(a, b int) int { return int(C.demo_add(C.int(a), C.int(b))) }
