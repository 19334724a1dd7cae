// Command rhost is the real loader for tests/test_fix_recipes.py: it opens each plugin named on the
// command line with plugin.Open, in order, in one process, and prints one line per plugin:
// "ok PATH" or "error PATH: MESSAGE". A crash (fatal error) ends the process with its own message.
package main

import (
	"os"
	"plugin"

	"example.com/dep"
)

func main() {
	_ = dep.Hello() // the host links example.com/dep, so its fingerprint is in the process
	for _, path := range os.Args[1:] {
		if _, err := plugin.Open(path); err != nil {
			os.Stdout.WriteString("error " + path + ": " + err.Error() + "\n")
			continue
		}
		os.Stdout.WriteString("ok " + path + "\n")
	}
}
