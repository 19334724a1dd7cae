package main

// A weak undefined reference: weak_fn may stay unbound (it is then NULL).

/*
extern int weak_fn(void) __attribute__((weak));
static int call_weak(void) { return weak_fn ? weak_fn() : -1; }
*/
import "C"

func CallWeak() int { return int(C.call_weak()) }
