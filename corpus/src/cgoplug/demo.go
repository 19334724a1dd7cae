package main

// Built against libdemo.so from the corpus output directory; RUNPATH $ORIGIN finds it beside the plugin.

/*
#cgo LDFLAGS: -L${SRCDIR}/../../out -ldemo -Wl,-rpath,$ORIGIN
int demo_add(int a, int b);
*/
import "C"

func Add(a, b int) int { return int(C.demo_add(C.int(a), C.int(b))) }
