// Package dep is served at two versions from the test's file-based GOPROXY; VERSION is replaced by each.
package dep

//go:noinline
func Hello() string { return "dep VERSION" }
