package main

// Linked against a libver.so that defines ver_fn at version VER_2 (out/vernew); the libver.so beside it
// at run time (RUNPATH $ORIGIN) defines the version VER_2 but ver_fn only at VER_1.

/*
#cgo LDFLAGS: -L${SRCDIR}/../../out/vernew -lver -Wl,-rpath,$ORIGIN
int ver_fn(void);
*/
import "C"

func CallVer() int { return int(C.ver_fn()) }
