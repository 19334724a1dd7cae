// Command host is the oracle for soinspect's corpus: it opens Go plugins with
// plugin.Open, in the order given, in one process, and prints one JSON line per
// plugin. It never calls anything in a plugin; it only looks symbols up.
//
// Usage: host [-lookup Name1,Name2] plugin1.so [-lookup Name3] plugin2.so ...
// A -lookup list applies to the plugin path that follows it.
package main

import (
	"os"
	"plugin"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"
)

// missingName is looked up in every plugin that opens, to record Go's miss message.
const missingName = "NoSuchSymbol"

type result struct {
	Path         string
	Outcome      string
	OpenError    *string
	Symbols      map[string]string
	LookupErrors map[string]string
}

// The host avoids fmt and encoding/json to stay small (the corpus keeps many hosts):
// typeString is what fmt's %T prints, and the JSON is written by hand.
func typeString(v interface{}) string {
	if v == nil {
		return "<nil>"
	}
	return reflect.TypeOf(v).String()
}

func jsonString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&15])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

func jsonMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(jsonString(b, k), ": "...)
		b = jsonString(b, m[k])
	}
	return append(b, '}')
}

func (r result) json() []byte {
	b := []byte(`{"path": `)
	b = jsonString(b, r.Path)
	b = append(b, `, "outcome": `...)
	b = jsonString(b, r.Outcome)
	b = append(b, `, "open_error": `...)
	if r.OpenError == nil {
		b = append(b, "null"...)
	} else {
		b = jsonString(b, *r.OpenError)
	}
	b = append(b, `, "symbols": `...)
	b = jsonMap(b, r.Symbols)
	b = append(b, `, "lookup_errors": `...)
	b = jsonMap(b, r.LookupErrors)
	return append(b, "}\n"...)
}

func open(path string, names []string) result {
	r := result{Path: path, Symbols: map[string]string{}, LookupErrors: map[string]string{}}
	p, err := plugin.Open(path)
	if err != nil {
		msg := err.Error()
		r.Outcome, r.OpenError = "error", &msg
		return r
	}
	r.Outcome = "ok"
	for _, name := range append(names, missingName) {
		sym, err := p.Lookup(name)
		if err != nil {
			r.LookupErrors[name] = err.Error()
			continue
		}
		r.Symbols[name] = typeString(sym)
	}
	return r
}

func main() {
	var names []string
	args := os.Args[1:]
	if len(args) == 0 {
		os.Stderr.WriteString("usage: host [-lookup A,B] plugin.so [-lookup C] plugin2.so ...\n")
		os.Exit(64)
	}
	for i := 0; i < len(args); i++ {
		if args[i] == "-lookup" && i+1 < len(args) {
			i++
			names = nil
			for _, n := range strings.Split(args[i], ",") {
				if n != "" {
					names = append(names, n)
				}
			}
			continue
		}
		// os.Stdout is unbuffered: the line is written before the next Open.
		os.Stdout.Write(open(args[i], names).json())
		names = nil
	}
	useDep()
}
