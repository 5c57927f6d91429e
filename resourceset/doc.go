// Package resourceset expands a Flux Operator ResourceSet
// (fluxcd.controlplane.io/v1) into the objects the operator would apply,
// from the operator's documentation (the operator is AGPL: none of its code
// is imported or copied).
//
// Expand takes the ResourceSet as unstructured data and the
// ResourceSetInputProviders of its namespace (their status.exportedInputs,
// read by the caller from the live hub) and returns the generated objects:
// spec.inputs and spec.inputsFrom combined by spec.inputStrategy (Flatten
// or Permute), the built-in inputs.id and inputs.provider fields, every
// entry of spec.resources, spec.resourcesTemplate and spec.steps rendered
// per input set as a Go text/template with the << >> delimiters and the
// slim-sprig functions plus slugify, deduplicated by apiVersion, kind,
// namespace and name, spec.commonMetadata and the ownership labels set,
// the namespace defaulted, and objects annotated
// fluxcd.controlplane.io/reconcile: disabled left out.
//
// Files: types.go (the spec as read from unstructured data), inputs.go
// (input sets and strategies), template.go (the template language),
// expand.go (Expand), labels.go (ownership labels), errors.go.
//
// It has no cluster client and never imports cobra.
package resourceset
