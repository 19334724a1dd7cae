// Package main is the plugin of tests/test_fix_recipes.py: it shares example.com/dep with the host.
package main

import "example.com/dep"

// stamp is set with -ldflags=-X main.stamp=... to make a second, different file with the same plugin path.
var stamp string

func Message() string { return dep.Hello() + stamp }
