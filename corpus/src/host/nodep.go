//go:build !soinspect_dep

package main

func useDep() {}
