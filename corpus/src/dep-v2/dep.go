// Package dep is the shared dependency of the usedep plugins and the dep host.
package dep

// Hello is kept out of line so that a change to its body is a change to the
// compiled package, not only to its callers.
//
//go:noinline
func Hello() string {
	return "hello from dep v2"
}
