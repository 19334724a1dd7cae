// Package only is linked by the plugin alone, never by the host.
package only

// Thing has the same shape as a struct the host could write, and a Log method.
type Thing struct{ N int }

func (*Thing) Log(msg string) {}

// Logger has the same methods as example.com/real/api.Logger, in another package.
type Logger interface{ Log(msg string) }
