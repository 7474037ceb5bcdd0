// Package clusters reads eksctl ClusterConfig files and writes the green
// cluster's config from the blue one.
//
// A Config keeps the file's text and its YAML tree (gopkg.in/yaml.v3), not a
// lossy struct: eksbg owns a handful of fields (see Derive) and every other
// byte of the file, comments and ordering included, is carried over as
// written. Edits are spliced into the text at the positions the YAML tree
// gives, so a green config differs from its blue one only where eksbg changed
// something, and `eksbg plan` can show that difference as a plain diff.
//
// Spec gives a typed, read-only view of the fields eksbg reads (node groups,
// subnets, addons) for the capacity and compatibility checks.
//
// Validate checks a config against eksctl's own JSON schema (`eksctl utils
// schema`), and RemovedAPIs lists the Kubernetes APIs a manifest uses that
// the target version no longer serves.
package clusters
