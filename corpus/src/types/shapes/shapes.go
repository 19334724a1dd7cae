// Package shapes gives the types plugin a named type from another package of
// its own module.
package shapes

type Circle struct {
	R float64
}

func (c Circle) Area() float64 { return 3.14159 * c.R * c.R }
