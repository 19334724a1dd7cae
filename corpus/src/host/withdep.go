//go:build soinspect_dep

package main

import (
	"os"

	"example.com/dep"
)

// useDep links example.com/dep into the host, so its fingerprint is the one a
// plugin importing the same package is compared against.
func useDep() {
	if os.Getenv("SOINSPECT_HOST_PRINT_DEP") != "" {
		os.Stderr.WriteString(dep.Hello() + "\n")
	}
}
