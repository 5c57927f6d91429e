package resourceset

import "fmt"

// Error is a ResourceSet that cannot be expanded: a template error, a
// missing input, a missing provider or one of an unknown type. Its message
// names the ResourceSet and, where one is at fault, the provider.
type Error struct {
	// ResourceSet is "namespace/name".
	ResourceSet string
	Err         error
}

func (e *Error) Error() string { return fmt.Sprintf("ResourceSet %s: %v", e.ResourceSet, e.Err) }

func (e *Error) Unwrap() error { return e.Err }
